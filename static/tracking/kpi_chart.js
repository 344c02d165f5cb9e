// Draws the KPI page's line chart from the JSON the page embeds (no inline script, no CDN).
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("kpi-chart");
    var source = document.getElementById("kpi-chart-data");
    if (!canvas || !source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var palette = ["#417690", "#e07a1f", "#2e9e5b", "#b8336a", "#6b5ca5", "#8c8c1f"];
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
        scales: { y: { beginAtZero: true, title: { display: true, text: data.yLabel } } }
      }
    });
    canvas.setAttribute("data-rendered", "true");
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
