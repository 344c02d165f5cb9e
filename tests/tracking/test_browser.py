"""Browser tests: Debian's Chromium (never `playwright install`) against the live test server."""

import base64
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from tracking.models import Conversion
from tracking.services import kpi_refresh_recent

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's Chromium at /usr/bin/chromium"),
]


@pytest.fixture
def browser_page():
    # Playwright's sync API keeps an event loop in this thread; the ORM work of the test
    # happens before pages load, so Django's async guard is safely relaxed here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            yield page
        finally:
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def log_in(page, base_url, username, password):
    page.goto(f"{base_url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


@pytest.fixture
def shop_data(transactional_db, partner, other_partner, offer, other_offer, profile, experiment, make_recommendation,
              click_on):
    from tests.factories import ProfileFactory

    # Two variants over the last days, so the chart has lines to draw.
    for variant, per_user in (("control", 1), ("treatment", 2)):
        for n in range(6):
            rec = make_recommendation(profile=ProfileFactory(), experiment=experiment, variant=variant)
            for k in range(per_user):
                click = click_on(offer if n % 2 else other_offer, recommendation=rec, ago=timedelta(days=n, minutes=k))
                if k:
                    Conversion.objects.create(partner_id=click.partner_id, click=click, event="registration",
                                              event_id=f"{variant}-{n}-{k}", payout=Decimal("50"),
                                              occurred_at=click.created_at + timedelta(minutes=5))
    kpi_refresh_recent()


def test_partner_staff_sees_only_its_offers_and_kpi(live_server, browser_page, partner_staff, offer, other_offer,
                                                     shop_data):
    page = browser_page
    log_in(page, live_server.url, "kino-staff", "kino-password-123")

    page.goto(f"{live_server.url}/admin/catalog/offer/")
    listing = page.inner_text("#result_list")
    assert offer.sku in listing and other_offer.sku not in listing

    page.goto(f"{live_server.url}/admin/tracking/dailykpi/")
    assert "Statistics of Kinoport" in page.inner_text("#content")
    assert "ranker-v2" not in page.content() and "Chitai" not in page.content()

    response = page.goto(f"{live_server.url}/admin/catalog/offer/{other_offer.pk}/change/")
    assert response.status in (403, 404)
    assert other_offer.url not in page.content()


def test_staff_kpi_page_renders_the_chart(live_server, browser_page, staff_user, shop_data):
    page = browser_page
    log_in(page, live_server.url, "boss", "boss-password-123")
    page.goto(f"{live_server.url}/admin/tracking/dailykpi/")
    page.wait_for_selector("#kpi-chart[data-rendered=true]", timeout=10_000)
    assert "ranker-v2 / control" in page.inner_text(".kpi-variants")
    assert "95% CI" in page.inner_text(".kpi-comparison")

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "kpi-chart.png"
    page.locator(".kpi-chart").screenshot(path=str(shot))
    assert shot.stat().st_size > 2_000

    # Decode the screenshot in the browser and count pixels that are not the page background.
    drawn = page.evaluate(
        """async (data) => {
            const img = new Image();
            img.src = "data:image/png;base64," + data;
            await img.decode();
            const canvas = document.createElement("canvas");
            canvas.width = img.width; canvas.height = img.height;
            const ctx = canvas.getContext("2d");
            ctx.drawImage(img, 0, 0);
            const px = ctx.getImageData(0, 0, img.width, img.height).data;
            const [r0, g0, b0] = [px[0], px[1], px[2]];
            let differing = 0;
            for (let i = 0; i < px.length; i += 4) {
                if (Math.abs(px[i] - r0) + Math.abs(px[i + 1] - g0) + Math.abs(px[i + 2] - b0) > 30) differing++;
            }
            return {differing, total: px.length / 4};
        }""",
        base64.b64encode(shot.read_bytes()).decode(),
    )
    assert drawn["differing"] > 0.005 * drawn["total"], drawn
