"""Settings: Films / Music / Books → the genre toggles → Done → settings; Back → main screen."""

from catalog.models import Kind
from telegram_bot.local_bot_api import plain
from users.models import Profile

from .conftest import buttons


def test_settings_change_genres_and_go_back(user, catalogue):
    user.register(genres_per_kind=0)
    calls = user.send("/settings")
    assert plain(calls[0].text) == "Что хочешь изменить?"
    assert [b["text"] for b in calls[0].buttons()] == ["🎬 Фильмы", "🎵 Музыка", "📚 Книги", "🌐 Язык: Русский",
                                                       "⬅️ Назад"]
    settings_message = user.messages()[-1]

    calls = user.press("Музыка")
    assert calls[1].method == "editMessageText" and calls[1].params["message_id"] == settings_message["message_id"]
    assert "Какую музыку ты любишь?" in plain(calls[1].text)
    calls = user.press("Джаз")
    assert calls[-1].method == "editMessageReplyMarkup"
    assert "✓ Джаз" in [b["text"] for b in buttons(user.message(settings_message["message_id"]))]
    profile = Profile.objects.get(telegram_id=user.id)
    assert [(g.kind, g.name_ru) for g in profile.genres.all()] == [(Kind.TRACK, "Джаз")]

    calls = user.press("Готово")
    assert calls[0].params["text"] == "Сохранено"
    assert plain(calls[1].text) == "Что хочешь изменить?"

    user.press("Фильмы")
    user.press("Комедия")
    user.press("Драма")
    user.press("✓ Комедия")
    user.press("Готово")
    assert sorted(g.name_ru for g in profile.genres.all()) == ["Джаз", "Драма"]

    calls = user.press("Назад")
    assert calls[1].params["message_id"] == settings_message["message_id"]
    assert plain(calls[1].text) == "Давай поищем что-то, что поможет тебе скрасить время?"


def test_settings_in_english(english_user, catalogue):
    english_user.register()
    calls = english_user.send("/settings")
    assert plain(calls[0].text) == "What would you like to change?"
    assert [b["text"] for b in calls[0].buttons()] == ["🎬 Films", "🎵 Music", "📚 Books", "🌐 Language: English",
                                                       "⬅️ Back"]
    english_user.press("Books")
    assert "Which books do you love?" in english_user.last_text()
    assert english_user.press("Done")[0].params["text"] == "Saved"


def test_about_command(user, catalogue):
    user.register()
    calls = user.send("/about")
    assert "Как это работает" in plain(calls[0].text)
    assert [b["text"] for b in calls[0].buttons()] == ["🔍 Поиск", "⬅️ Назад"]
