// Draws the KPI page's charts from the JSON the page embeds (no inline script, no CDN): the daily
// trend per variant, and the two compared variants' means with the difference and its 95% CI.
(function () {
  "use strict";
  var palette = ["#417690", "#e07a1f", "#2e9e5b", "#b8336a", "#6b5ca5", "#8c8c1f"];

  function drawTrend(canvas, data) {
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (set, i) {
          var colour = palette[i % palette.length];
          return { label: set.label, data: set.data, borderColor: colour, backgroundColor: colour,
                   spanGaps: true, cubicInterpolationMode: "monotone", pointRadius: data.labels.length > 60 ? 0 : 2 };
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { title: { display: true, text: data.yLabel } },
        scales: { y: { beginAtZero: true } }
      }
    });
    canvas.setAttribute("data-rendered", "true");
  }

  function drawInterval(canvas, interval) {
    var d = interval.difference;
    var labels = interval.means.map(function (m) { return m.label; }).concat([d.label]);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [{
          // Means are bars from zero; the difference is a floating bar from the CI's low to its high end.
          data: interval.means.map(function (m) { return [0, m.value]; }).concat([[d.low, d.high]]),
          backgroundColor: [palette[0], palette[1], "rgba(46, 158, 91, 0.35)"],
          borderColor: [palette[0], palette[1], "#2e9e5b"], borderWidth: 1, barPercentage: 0.6
        }, {
          type: "scatter", data: [{ x: d.label, y: d.value }], backgroundColor: "#1f2933", pointRadius: 5,
          pointStyle: "rectRot"
        }]
      },
      options: {
        indexAxis: "x", responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false }, title: { display: true, text: interval.title } },
        scales: { y: { grid: { color: function (c) { return c.tick.value === 0 ? "#52606d" : "rgba(0,0,0,0.08)"; } } } }
      }
    });
    canvas.setAttribute("data-rendered", "true");
  }

  function draw() {
    var source = document.getElementById("kpi-chart-data");
    if (!source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var trend = document.getElementById("kpi-chart");
    if (trend) { drawTrend(trend, data); }
    var interval = document.getElementById("kpi-interval-chart");
    if (interval && data.interval) { drawInterval(interval, data.interval); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
