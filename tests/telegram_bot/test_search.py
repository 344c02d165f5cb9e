"""Search: mood → time → cards with ratings and tracked shop links → more options / new search."""

import pytest
from django.conf import settings

from catalog.models import ContentItem, Mood
from recommender.models import Recommendation
from telegram_bot.cards import KIND_ICONS, titles
from telegram_bot.local_bot_api import plain
from tracking.links import read_offer_link_token
from users.models import Rating

from .conftest import buttons

RATING_TEXTS = ["👍 Нравится", "🤷 Не знаю", "👎 Не нравится"]


def card_calls(calls):
    return [c for c in calls if c.method in ("sendPhoto", "sendMessage") and any(
        b.get("callback_data", "").startswith("rt:") for b in c.buttons())]


def assert_card(call, language="ru"):
    item_id = int(call.buttons()[0]["callback_data"].split(":")[1])
    item = ContentItem.objects.get(pk=item_id)
    # A cover is sent as a photo with the card as its caption; without one, a text message.
    if item.cover_url:
        assert call.method == "sendPhoto" and call.params["photo"] == item.cover_url
    else:
        assert call.method == "sendMessage"
    text = plain(call.text)
    # The card leads with the title in the reader's language (Russian, or English / original for English readers).
    assert text.split("\n")[0].startswith(KIND_ICONS[item.kind] + " " + titles(item, language)[0])
    shop_buttons = [b for b in call.buttons() if "url" in b]
    assert shop_buttons, "every card links to an offer"
    for button in shop_buttons:
        assert button["url"].startswith(settings.PUBLIC_BASE_URL + "/go/")
        target = read_offer_link_token(button["url"].rsplit("/go/", 1)[1])
        assert target is not None and item.offers.filter(pk=target.offer_id).exists()
    return item


def test_search_with_every_mood(user, catalogue):
    user.register()
    moods = list(Mood.objects.order_by("position"))
    assert len(moods) == 10
    for mood in moods:
        calls = user.send("/search")
        assert plain(calls[0].text) == "Какое у тебя настроение?"
        assert [b["text"] for b in calls[0].buttons()] == [f"{m.emoji} {m.name_ru}" for m in moods]

        question = user.messages()[-1]
        calls = user.press(mood.name_ru)
        assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText"]
        assert calls[1].params["message_id"] == question["message_id"]
        assert "Сколько у тебя времени?" in plain(calls[1].text) and mood.name_ru in plain(calls[1].text)
        assert [b["text"] for b in calls[1].buttons()][:5] == ["15 мин", "30 мин", "1 ч", "2 ч", "3 ч и больше"]

        calls = user.press("3 ч и больше")
        assert calls[0].method == "answerCallbackQuery"
        assert calls[1].method == "editMessageText" and plain(calls[1].text) == f"{mood.emoji} {mood.name_ru} · 3 ч и больше"
        cards = card_calls(calls)
        kinds = [assert_card(call).kind for call in cards]
        assert kinds == sorted(kinds, key=["film", "track", "book"].index), "films, then music, then books"
        assert set(kinds) == {"film", "track", "book"}
        for call in cards:
            assert [b["text"] for b in call.buttons()][:3] == RATING_TEXTS
        footer = calls[-1]
        assert plain(footer.text) == "Что дальше?"
        assert [b["text"] for b in footer.buttons()] == ["🔄 Ещё варианты", "🔍 Новый поиск", "⬅️ Назад"]
        recommendation = Recommendation.objects.filter(profile__telegram_id=user.id).latest("created_at")
        assert recommendation.mood == mood and recommendation.minutes == 180 and recommendation.channel == "bot"


def test_more_options_excludes_what_this_search_showed(user, catalogue):
    user.register()
    user.send("/search")
    user.press("Радостное")
    first = card_calls(user.press("2 ч"))
    footer = user.messages()[-1]
    calls = user.press("Ещё варианты")
    # The spent "What next?" is deleted, so the new cards follow the first ones with nothing between them.
    assert calls[1].method == "deleteMessage" and calls[1].params["message_id"] == footer["message_id"]
    assert user.message(footer["message_id"]) is None
    second = card_calls(calls)
    first_ids = {c.buttons()[0]["callback_data"] for c in first}
    second_ids = {c.buttons()[0]["callback_data"] for c in second}
    assert second and not first_ids & second_ids
    for call in second:
        assert_card(call)

    # Pressing until nothing is left ends with a clear note, never an error.
    for _ in range(30):
        calls = user.press("Ещё варианты")
        if "Больше вариантов" in plain(calls[-1].text):
            break
    assert "Больше вариантов под это настроение и время нет" in plain(calls[-1].text)
    assert [b["text"] for b in calls[-1].buttons()] == ["🔍 Новый поиск", "⬅️ Назад"]

    calls = user.press("Новый поиск")
    assert plain(calls[-1].text) == "Какое у тебя настроение?"


def test_more_options_still_works_after_a_visit_to_settings(user, catalogue):
    user.register()
    user.send("/search")
    user.press("Радостное")
    user.press("2 ч")
    footer = user.messages()[-1]
    user.send("/settings")
    user.press("Назад")
    calls = user.press("Ещё варианты", message=user.message(footer["message_id"]))
    assert any(c.method in ("sendPhoto", "sendMessage") and c.buttons() and
               c.buttons()[0].get("callback_data", "").startswith("rt:") for c in calls)


def test_rating_buttons_mark_the_pressed_one_and_a_second_press_changes_it(user, catalogue):
    user.register()
    user.send("/search")
    user.press("Энергичное")
    card = card_calls(user.press("3 ч и больше"))[0]
    message = next(m for m in user.messages() if (m.get("reply_markup") or {}) == card.reply_markup)
    item_id = int(card.buttons()[0]["callback_data"].split(":")[1])

    calls = user.press("Нравится", message=message)
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageReplyMarkup"]
    assert plain(calls[0].params["text"]) == "Запомнил"
    assert Rating.objects.get(profile__telegram_id=user.id, item_id=item_id).value == 1
    assert Rating.objects.get(profile__telegram_id=user.id, item_id=item_id).source == "search"
    marked = user.message(message["message_id"])
    assert [b["text"] for b in buttons(marked)][:3] == ["✅ Нравится", "🤷 Не знаю", "👎 Не нравится"]
    assert [b for b in buttons(marked) if "url" in b] == [b for b in card.buttons() if "url" in b]

    user.press("Не нравится", message=marked)
    assert Rating.objects.get(profile__telegram_id=user.id, item_id=item_id).value == -1
    assert [b["text"] for b in buttons(user.message(message["message_id"]))][:3] == \
        ["👍 Нравится", "🤷 Не знаю", "✅ Не нравится"]


@pytest.mark.parametrize("typed, minutes, label", [("45", 45, "45 мин"), ("45 мин", 45, "45 мин"),
                                                    ("2 ч", 120, "2 ч"), ("1,5 часа", 90, "1 ч 30 мин"),
                                                    ("1:30", 90, "1 ч 30 мин")])
def test_typed_time_search(user, catalogue, typed, minutes, label):
    user.register()
    user.send("/search")
    user.press("Спокойное")
    calls = user.send(typed)
    assert card_calls(calls)
    assert Recommendation.objects.filter(profile__telegram_id=user.id).latest("created_at").minutes == minutes
    # The time question turns into the search's title (and why a kind is missing) and loses its buttons.
    edit = next(c for c in calls if c.method == "editMessageText")
    assert plain(edit.text).split("\n")[0] == f"🌿 Спокойное · {label}" and not edit.buttons()


@pytest.mark.parametrize("typed", ["abc", "0", "100000", "4", "1441", "-5", "1.5", "25 ч", "45 котов"])
def test_a_wrong_typed_time_gets_a_clear_prompt_with_the_range(user, catalogue, typed):
    user.register()
    user.send("/search")
    user.press("Спокойное")
    calls = user.send(typed)
    assert [c.method for c in calls] == ["sendMessage"]
    assert "Напиши число минут от 5 до 1440" in plain(calls[0].text)
    assert not Recommendation.objects.filter(profile__telegram_id=user.id).exists()
    # The question is still open: a valid time now searches.
    assert card_calls(user.send("90"))


def test_search_in_english(english_user, catalogue):
    for item in catalogue:  # titles are Russian in the catalogue; English readers see the original first
        item.original_title = f"Original of {item.pk}"
        item.save(update_fields=["original_title"])
    english_user.register()
    calls = english_user.send("/search")
    assert plain(calls[0].text) == "What's your mood?"
    assert "😄 Joyful" in [b["text"] for b in calls[0].buttons()]
    english_user.press("Joyful")
    assert "How much time do you have?" in english_user.last_text()
    calls = english_user.press("3 h or more")
    cards = card_calls(calls)
    assert cards
    assert [b["text"] for b in cards[0].buttons()][:3] == ["👍 Like", "🤷 Don't know", "👎 Dislike"]
    for call in cards:
        item = assert_card(call, "en")
        assert plain(call.text).split("\n")[0].endswith(f"Original of {item.pk} ({item.year})")
    assert plain(calls[-1].text) == "What next?"
    assert [b["text"] for b in calls[-1].buttons()] == ["🔄 More options", "🔍 New search", "⬅️ Back"]


def test_main_screen_more_then_search(user, catalogue):
    user.register()
    main = user.messages()[-1]
    calls = user.press("Подробнее")
    assert calls[1].method == "editMessageText" and calls[1].params["message_id"] == main["message_id"]
    assert "Как это работает" in plain(calls[1].text)
    calls = user.press("Поиск")
    assert plain(calls[1].text) == "Какое у тебя настроение?"
    assert calls[1].params["message_id"] == main["message_id"]
