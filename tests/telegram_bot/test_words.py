"""People write instead of pressing buttons: mood and time in words, through the webhook and the fake Bot API."""

import pytest

from recommender.models import Recommendation
from telegram_bot.local_bot_api import plain

from .conftest import buttons
from .test_search import assert_card, card_calls


@pytest.mark.parametrize("text, mood, minutes, line", [
    ("мне грустно, есть пара часов", "melancholic", 120, "🌧 Грустное · 2 ч"),
    ("хочу драйва на вечер", "thrills", 180, "🔥 Хочу драйва · 3 ч и больше"),
])
def test_words_in_russian_lead_to_cards_under_what_was_understood(user, catalogue, text, mood, minutes, line):
    user.register()
    calls = user.send(text)
    assert plain(calls[0].text).split("\n")[0] == line
    cards = card_calls(calls)
    assert cards
    for call in cards:
        assert_card(call)
    recommendation = Recommendation.objects.filter(profile__telegram_id=user.id).latest("created_at")
    assert recommendation.mood.code == mood and recommendation.minutes == minutes
    assert plain(calls[-1].text) == "Что дальше?"


def test_words_in_english_lead_to_cards(english_user, catalogue):
    english_user.register()
    calls = english_user.send("I feel sad and have 2 hours")
    assert plain(calls[0].text).split("\n")[0] == "🌧 Melancholic · 2 h"
    cards = card_calls(calls)
    assert cards
    for call in cards:
        assert_card(call, "en")


def test_only_the_mood_asks_for_the_time_with_the_usual_buttons(user, catalogue):
    user.register()
    calls = user.send("грустно")
    assert [c.method for c in calls] == ["sendMessage"]
    assert "Сколько у тебя времени?" in plain(calls[0].text) and "Грустное" in plain(calls[0].text)
    assert [b["text"] for b in calls[0].buttons()][:5] == ["15 мин", "30 мин", "1 ч", "2 ч", "3 ч и больше"]
    calls = user.send("полчаса")  # the time answered in words too
    assert card_calls(calls)
    assert Recommendation.objects.filter(profile__telegram_id=user.id).latest("created_at").minutes == 30


def test_only_the_time_asks_for_the_mood_and_a_mood_button_searches(english_user, catalogue):
    english_user.register()
    calls = english_user.send("got an hour and a half")
    assert [c.method for c in calls] == ["sendMessage"]
    assert "Time: 1 h 30 min" in plain(calls[0].text) and "What's your mood?" in plain(calls[0].text)
    assert "😄 Joyful" in [b["text"] for b in calls[0].buttons()]
    cards = card_calls(english_user.press("Calm"))
    assert cards
    recommendation = Recommendation.objects.filter(profile__telegram_id=english_user.id).latest("created_at")
    assert recommendation.mood.code == "calm" and recommendation.minutes == 90


def test_a_negated_mood_is_not_taken(user, catalogue):
    user.register()
    calls = user.send("не грустно, просто есть 2 часа")
    assert "Какое у тебя настроение?" in plain(calls[0].text)
    assert not Recommendation.objects.filter(profile__telegram_id=user.id).exists()


def test_a_mood_named_on_the_time_question_asks_the_time_for_it(user, catalogue):
    user.register()
    user.send("/search")
    user.press("Спокойное")
    calls = user.send("хотя нет, хочу драйва")
    assert "Хочу драйва" in plain(calls[0].text) and "Сколько у тебя времени?" in plain(calls[0].text)
    calls = user.send("1 час")
    assert card_calls(calls)
    assert Recommendation.objects.filter(profile__telegram_id=user.id).latest("created_at").mood.code == "thrills"


def test_words_before_registration_continue_the_registration(user, catalogue):
    user.send("/start")
    calls = user.send("грустно, 2 часа")
    assert "Сначала давай закончим знакомство" in plain(calls[0].text)
    assert not Recommendation.objects.filter(profile__telegram_id=user.id).exists()


def test_more_options_keeps_the_cards_in_order(user, catalogue):
    user.register()
    user.send("/search")
    user.press("Радостное")
    user.press("15 мин")  # no film fits in 15 minutes: said in the search's title, above the cards
    title = next(m for m in user.messages() if plain(m.get("text") or "").startswith("😄 Радостное · 15 мин"))
    assert "ни один фильм не уложится" in plain(title["text"])
    user.press("Ещё варианты")
    texts = [plain(m.get("text") or m.get("caption") or "") for m in user.messages()]
    assert sum("Что дальше?" in text for text in texts) == 1, "one footer, after all the cards"
    assert texts[-1] == "Что дальше?"
    assert sum("ни один фильм" in text for text in texts) == 1
    assert buttons(user.messages()[-1])
