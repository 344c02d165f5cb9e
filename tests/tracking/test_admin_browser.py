"""The admin in Debian's Chromium at 1400 px: one language per page, the KPI chart after the demo
history, the partner's offer list fitting the screen, and the test-conversion button end to end."""

import os
from datetime import timedelta

import pytest
from django.core.management import call_command

from tests.factories import ContentItemFactory, OfferFactory
from tracking.models import Conversion
from tracking.services import kpi_refresh_recent

CHROMIUM = "/usr/bin/chromium"
WIDTH = 1400

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's Chromium at /usr/bin/chromium"),
]

# Chrome (not data) strings of each language; a page in one language must show none of the other's.
CHROME = {
    "en": ["Home", "Log out", "View site", "Change password", "Clicks", "Catalogue and partners", "Refresh now",
           "Connect your shop", "Filter", "Offers", "Price"],
    "ru": ["Начало", "Выйти", "Открыть сайт", "Изменить пароль", "Клики", "Каталог и партнёры", "Обновить сейчас",
           "Подключить магазин", "Фильтр", "Предложения", "Цена"],
}
LOCALES = {"en": "en-US", "ru": "ru-RU"}


@pytest.fixture(autouse=True)
def fresh_recommender_caches():
    """The demo catalogue lives only in this test's database: no index built on it may outlive the test."""
    from recommender.collab import collab_index_clear
    from recommender.index import catalogue_index_clear
    from recommender.selectors import serving_config_clear

    yield
    catalogue_index_clear()
    collab_index_clear()
    serving_config_clear()


@pytest.fixture
def chromium():
    # Playwright's sync API keeps an event loop in this thread; the ORM work happens before pages load.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def open_page(browser, language="en"):
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000}, locale=LOCALES[language])
    return context.new_page()


def log_in(page, base_url, username, password):
    page.goto(f"{base_url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


@pytest.mark.parametrize("language", ["en", "ru"])
def test_main_admin_pages_speak_one_language(live_server, chromium, transactional_db, staff_user, partner, offer,
                                             click_on, language):
    click_on(offer, ago=timedelta(hours=2))
    kpi_refresh_recent()
    page = open_page(chromium, language)
    log_in(page, live_server.url, "boss", "boss-password-123")
    other = "ru" if language == "en" else "en"
    for path in ("/admin/", "/admin/catalog/offer/", "/admin/catalog/contentitem/", "/admin/tracking/dailykpi/",
                 f"/admin/catalog/partner/{partner.pk}/connect/"):
        page.goto(live_server.url + path)
        text = page.inner_text("body")
        leaked = [s for s in CHROME[other] if s in text]
        assert not leaked, f"{path} in {language} shows {leaked}"
        assert page.get_attribute("html", "lang") == language
        if path.endswith(("/offer/", "/contentitem/")):  # the lists fit: no sideways scrolling at 1400 px
            assert page.evaluate("() => { const r = document.querySelector('#changelist .results');"
                                 " return r.scrollWidth <= r.clientWidth; }"), path
    assert "MoodStream" in page.inner_text("#site-name")


def test_kpi_page_after_the_demo_history_draws_two_variants_and_the_interval(live_server, chromium,
                                                                            transactional_db, staff_user):
    call_command("load_demo", "--history", "--days", "21", "--users", "150", verbosity=0)
    page = open_page(chromium)
    log_in(page, live_server.url, "boss", "boss-password-123")
    page.goto(f"{live_server.url}/admin/tracking/dailykpi/")
    page.wait_for_selector("#kpi-chart[data-rendered=true]", timeout=10_000)
    page.wait_for_selector("#kpi-interval-chart[data-rendered=true]", timeout=10_000)
    variants = page.inner_text(".kpi-variants")
    assert "demo-history / control" in variants and "demo-history / treatment" in variants
    comparison = page.inner_text(".kpi-comparison")
    assert "95% CI [" in comparison
    lines = page.evaluate("() => Chart.getChart('kpi-chart').data.datasets.map(d => d.data.filter(v => v !== null).length)")
    assert len(lines) == 2 and min(lines) >= 15  # two variants with a point on most of the 21 days


def test_partner_offer_list_columns_fit_1400_px(live_server, chromium, transactional_db, partner, partner_staff):
    for n in range(3):
        OfferFactory(partner=partner, sku=f"KP-{n:04d}-" + "X" * 30,
                     item=ContentItemFactory(title="An exceedingly long feed title that goes on and on " * 3))
    page = open_page(chromium)
    log_in(page, live_server.url, "kino-staff", "kino-password-123")
    page.goto(f"{live_server.url}/admin/catalog/offer/")
    headers = page.eval_on_selector_all(
        "#result_list thead th", "ths => ths.map(th => [th.innerText.trim(), th.getBoundingClientRect().right])")
    names = [name for name, _right in headers]
    for wanted in ("Price", "Offer type", "Available", "Updated", "Clicks", "Conversions"):
        assert any(wanted.lower() in name.lower() for name in names), names
    # Visible, not merely laid out: the results box shows every column without scrolling sideways.
    box = page.evaluate("() => { const r = document.querySelector('#changelist .results');"
                        " return [r.getBoundingClientRect().right, r.scrollWidth, r.clientWidth]; }")
    assert max(right for _name, right in headers) <= min(box[0], WIDTH), (headers, box)
    assert box[1] <= box[2], box
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH


def test_test_conversion_button_end_to_end(live_server, chromium, transactional_db, partner, offer, partner_staff):
    page = open_page(chromium)
    log_in(page, live_server.url, "kino-staff", "kino-password-123")
    page.click("text=Connect your shop")
    page.click("button:has-text('Issue a postback key')")
    key = page.inner_text("#postback-key")
    assert f"key={key}" in page.inner_text("#postback-url")
    page.select_option("select[name=event]", "registration")
    page.click("#send-test")
    result = page.inner_text("#test-result")
    assert "The endpoint answered 201." in result and "Registration" in result
    conversion = Conversion.objects.get()
    assert conversion.is_test and conversion.payout == 0 and conversion.event == "registration"
    assert "Recent test conversions" in page.inner_text("#content")
