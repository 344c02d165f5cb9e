"""Save for later: 🔖 under a card → /saved (best offer now, tracked link, remove, pages)."""

from django.conf import settings

from catalog.models import ContentItem
from recommender.models import Recommendation
from tracking.links import read_offer_link_token
from users.models import SavedItem

from telegram_bot.local_bot_api import plain

from .conftest import buttons
from .test_search import card_calls


def _search(user, mood="Радостное", time="3 ч и больше"):
    user.send("/search")
    user.press(mood)
    return card_calls(user.press(time))


def test_save_then_saved_then_remove(user, catalogue):
    user.register()
    cards = _search(user)
    assert all(any(b["text"] == "🔖 Сохранить" for b in call.buttons()) for call in cards), "🔖 on every card"
    card = next(m for m in user.messages() if (m.get("reply_markup") or {}) == cards[0].reply_markup)
    item_id = int(cards[0].buttons()[0]["callback_data"].split(":")[1])

    calls = user.press("Сохранить", message=card)
    assert plain(calls[0].params["text"]).startswith("Сохранил")
    assert "🔖 Сохранено ✓" in [b["text"] for b in buttons(user.message(card["message_id"]))]
    saved = SavedItem.objects.get(profile__telegram_id=user.id, item_id=item_id)
    assert saved.recommendation == Recommendation.objects.filter(profile__telegram_id=user.id).latest("created_at")

    calls = user.send("/saved")
    text = plain(calls[0].text)
    item = ContentItem.objects.get(pk=item_id)
    assert "Сохранённое (1)" in text and item.title in text and "🛒" in text
    link = next(b for b in calls[0].buttons() if "url" in b)["url"]
    assert link.startswith(settings.PUBLIC_BASE_URL + "/go/")
    target = read_offer_link_token(link.rsplit("/go/", 1)[1])
    assert target.recommendation_id == saved.recommendation_id and item.offers.filter(pk=target.offer_id).exists()

    calls = user.press("Убрать 1")
    assert not SavedItem.objects.filter(profile__telegram_id=user.id).exists()
    assert "пока пусто" in plain(calls[-1].text)


def test_saved_is_on_the_main_screen_and_pages(user, catalogue):
    user.register()
    for mood in ("Радостное", "Энергичное", "Спокойное"):
        for call in _search(user, mood):
            card = next(m for m in user.messages() if (m.get("reply_markup") or {}) == call.reply_markup)
            if any(b["text"] == "🔖 Сохранить" for b in buttons(card)):  # not one saved from an earlier search
                user.press("Сохранить", message=card)
    total = SavedItem.objects.filter(profile__telegram_id=user.id).count()
    assert total > 5
    user.send("/start")
    calls = user.press("Сохранённое")
    page = user.message(calls[1].params["message_id"])
    pages = -(-total // 5)
    assert f"Сохранённое ({total})" in plain(page["text"]) and f"Страница 1 из {pages}" in plain(page["text"])
    assert sum("Убрать" in b["text"] for b in buttons(page)) == 5
    for number in range(2, pages + 1):
        user.press("Дальше", message=page)
        page = user.message(page["message_id"])
        assert f"Страница {number} из {pages}" in plain(page["text"])
    assert sum("Убрать" in b["text"] for b in buttons(page)) == total - 5 * (pages - 1)
    assert "Дальше" not in [b["text"] for b in buttons(page)]
    # Removing the only item of the last page shows the page before it.
    if total % 5 == 1:
        user.press("Убрать", message=page)
        assert f"Страница {pages - 1} из {pages - 1}" in plain(user.message(page["message_id"])["text"])


def test_saved_pressed_again_removes_and_a_forged_save_is_stale(user, catalogue):
    user.register()
    cards = _search(user)
    card = next(m for m in user.messages() if (m.get("reply_markup") or {}) == cards[0].reply_markup)
    user.press("Сохранить", message=card)
    calls = user.press("Сохранено", message=user.message(card["message_id"]))
    assert plain(calls[0].params["text"]) == "Убрал из сохранённого"
    assert not SavedItem.objects.filter(profile__telegram_id=user.id).exists()
    calls = user.press_data("sv:999999999", message=card)
    assert plain(calls[0].params["text"]) == "Кнопка устарела"


def test_saved_in_english_when_empty(english_user, catalogue):
    english_user.register()
    calls = english_user.send("/saved")
    assert "Nothing here yet" in plain(calls[0].text)
