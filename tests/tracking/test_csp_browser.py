"""Content-Security-Policy (django-csp): the admin, the KPI chart and the API docs work under it.
Chromium reports every blocked script, style, image, font, connection or worker on its console;
the test fails on any such report."""

import os

import pytest

from .test_browser import CHROMIUM, browser_page, log_in, shop_data  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's Chromium at /usr/bin/chromium")]


def csp_reports(page, url: str) -> list[str]:
    """Open `url`, let it settle, and return the console's Content-Security-Policy complaints."""
    messages: list[str] = []

    def collect(message):
        messages.append(message.text)

    page.on("console", collect)
    try:
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
    finally:
        page.remove_listener("console", collect)
    return [text for text in messages if "Content Security Policy" in text]


def test_admin_kpi_chart_and_api_docs_load_with_no_csp_violation(live_server, browser_page, staff_user, shop_data):
    page = browser_page
    header = page.goto(f"{live_server.url}/admin/login/").headers["content-security-policy"]
    assert "script-src 'self'" in header and "default-src 'self'" in header
    log_in(page, live_server.url, "boss", "boss-password-123")

    for path in ("/admin/", "/admin/catalog/partner/", "/admin/catalog/feedimport/", "/admin/tracking/click/",
                 "/admin/axes/accessattempt/"):
        assert csp_reports(page, live_server.url + path) == [], path

    assert csp_reports(page, f"{live_server.url}/admin/tracking/dailykpi/") == []
    page.wait_for_selector("#kpi-chart[data-rendered=true]", timeout=10_000)  # Chart.js ran

    assert csp_reports(page, f"{live_server.url}/api/docs/") == []
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)  # Swagger UI ran and read the schema
    assert "/api/v1/recommendations" in page.inner_text(".swagger-ui")


def test_an_inline_script_is_blocked_and_reported(live_server, browser_page):
    """The check above can fail: a script the policy does not allow is reported on the console."""
    page = browser_page
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(f"{live_server.url}/admin/login/")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.injected = true;";
        document.head.appendChild(script);
    }""")
    assert page.evaluate("window.injected === undefined")
    assert any("Content Security Policy" in text for text in messages)
