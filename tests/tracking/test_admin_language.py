"""One language per person in the admin: the user's choice, else Accept-Language; machine endpoints untouched."""

from datetime import timedelta

from django.utils import translation

from tracking.services import kpi_refresh_recent
from users.models import AdminPreference

RUSSIAN_CHROME = ("Администрирование", "Клики, конверсии и KPI", "Каталог и партнёры", "Выйти")
ENGLISH_CHROME = ("Administration", "Clicks, conversions and KPI", "Catalogue and partners", "Log out")


def test_until_chosen_accept_language_decides(client, staff_user):
    client.force_login(staff_user)
    russian = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    english = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert all(s in russian for s in RUSSIAN_CHROME) and not any(s in russian for s in ENGLISH_CHROME)
    assert all(s in english for s in ENGLISH_CHROME) and not any(s in english for s in RUSSIAN_CHROME)
    assert "<title>Администрирование | MoodStream</title>" in russian


def test_the_choice_is_stored_on_the_user_and_wins_over_the_browser(client, staff_user):
    client.force_login(staff_user)
    response = client.post("/language/", {"language": "ru", "next": "/admin/"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert AdminPreference.objects.get(user=staff_user).language == "ru"

    # A new session (another browser) still gets the stored choice.
    client.logout()
    client.force_login(staff_user)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Администрирование" in page and "Log out" not in page


def test_the_switch_refuses_unknown_languages_and_foreign_redirects(client, staff_user):
    client.force_login(staff_user)
    response = client.post("/language/", {"language": "de", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert not AdminPreference.objects.exists()


def test_kpi_and_statement_pages_speak_the_language(client, staff_user, partner, offer, click_on):
    click_on(offer, ago=timedelta(hours=1))
    kpi_refresh_recent()
    client.force_login(staff_user)
    client.post("/language/", {"language": "ru"})
    kpi = client.get("/admin/tracking/dailykpi/").content.decode()
    assert "KPI по дням и вариантам" in kpi and "Обновить сейчас" in kpi and "Начало" in kpi
    assert "Refresh now" not in kpi and ">Home<" not in kpi
    statement = client.get("/admin/tracking/monthlystatement/").content.decode()
    assert "Итого к оплате" in statement and "Total owed" not in statement
    assert "1,00\xa0₽" in statement  # the click's payout, with its currency, Russian decimal comma


def test_the_landing_page_is_public_in_both_languages(client):
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    russian = client.get("/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "For partners: connect your shop" in english and 'href="/admin/"' in english
    assert "Партнёрам: подключите свой магазин" in russian


def test_machine_endpoints_keep_no_language_of_the_person(client, staff_user):
    client.force_login(staff_user)
    client.post("/language/", {"language": "ru"})
    client.get("/admin/")
    # The admin request leaves no language behind for whatever this thread serves next.
    assert translation.get_language() in (None, "en")  # settings_test's LANGUAGE_CODE, not the user's "ru"
