"""Registration on /start: greeting, genre toggles edited in place, the warm-up cards, then the main screen."""

from catalog.models import Genre, Kind
from telegram_bot.local_bot_api import plain
from users.models import Profile, Rating

from .conftest import buttons


def test_full_registration_in_russian(user, catalogue):
    calls = user.send("/start")

    sent = [c for c in calls if c.method == "sendMessage"]
    assert "Чтобы давать хорошие рекомендации, нам нужно познакомиться" in plain(sent[0].text)
    assert "Какие жанры фильмов тебе нравятся?" in plain(sent[1].text)
    genre_message = user.messages()[-1]
    film_genres = {g.name_ru for g in Genre.objects.filter(kind=Kind.FILM)}
    assert {b["text"] for b in buttons(genre_message)[:-1]} == film_genres
    assert buttons(genre_message)[-1]["text"] == "Готово ➡️"

    # A tap marks a genre, a second tap unmarks it; the same message is edited, never re-sent.
    comedy = next(b for b in buttons(genre_message) if b["text"] == "Комедия")
    calls = user.press("Комедия")
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageReplyMarkup"]
    assert calls[1].params["message_id"] == genre_message["message_id"]
    assert "✓ Комедия" in [b["text"] for b in buttons(user.message(genre_message["message_id"]))]
    user.press("Драма")
    user.press("✓ Комедия")
    profile = Profile.objects.get(telegram_id=user.id)
    assert [g.name_ru for g in profile.genres.all()] == ["Драма"]
    assert comedy["callback_data"] in [b["callback_data"] for b in buttons(user.messages()[-1])]

    calls = user.press("Готово")
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert calls[1].params["message_id"] == genre_message["message_id"]
    assert "Какую музыку ты любишь?" in user.last_text()
    user.press("Джаз")
    user.press("Готово")
    assert "Какие книги ты любишь?" in user.last_text()
    user.press("Детектив")
    calls = user.press("Готово")

    texts = [plain(c.text) for c in calls if c.method in ("sendMessage", "sendPhoto", "editMessageText")]
    assert "Драма" in texts[0] and "Джаз" in texts[0] and "Детектив" in texts[0]
    assert "скажи, нравятся они тебе или нет. Если не знаешь — так и скажи" in texts[1]
    assert "Карточка 1 из 9" in texts[2]
    profile.refresh_from_db()
    assert profile.onboarding == Profile.Onboarding.WARMUP

    # Nine cards, one at a time, mixing films, music and books; answers are onboarding ratings.
    answers = ["Нравится", "Не знаю", "Не нравится"]
    seen_kinds = []
    for number in range(9):
        card = user.messages()[-1]
        assert f"Карточка {number + 1} из 9" in plain(card.get("caption") or card.get("text"))
        assert [b["text"] for b in buttons(card)] == ["👍 Нравится", "🤷 Не знаю", "👎 Не нравится"]
        calls = user.press(answers[number % 3], message=card)
        assert calls[0].method == "answerCallbackQuery"
        marked = [b["text"] for b in buttons(user.message(card["message_id"]))]
        assert f"✅ {answers[number % 3]}" in marked
        item_id = int(buttons(card)[0]["callback_data"].split(":")[1])
        seen_kinds.append(Rating.objects.get(profile=profile, item_id=item_id).item.kind)

    assert set(seen_kinds) == {"film", "track", "book"}
    ratings = Rating.objects.filter(profile=profile)
    assert ratings.count() == 9
    assert set(ratings.values_list("source", flat=True)) == {"onboarding"}
    assert sorted(ratings.values_list("value", flat=True)) == [-1, -1, -1, 0, 0, 0, 1, 1, 1]
    texts = [plain(m.get("text") or m.get("caption") or "") for m in user.messages()[-2:]]
    assert "Спасибо! Теперь я знаю тебя лучше" in texts[0]
    assert texts[1] == "Давай поищем что-то, что поможет тебе скрасить время?"
    assert [b["text"] for b in buttons(user.messages()[-1])] == ["ℹ️ Подробнее", "🔍 Поиск", "🔖 Сохранённое"]
    profile.refresh_from_db()
    assert profile.onboarding == Profile.Onboarding.DONE


def test_registration_in_english(english_user, catalogue):
    english_user.send("/start")
    assert "To give you good recommendations we need to get to know you" in plain(english_user.messages()[0]["text"])
    assert "Which film genres do you like?" in english_user.last_text()
    assert "Comedy" in [b["text"] for b in buttons(english_user.messages()[-1])]
    english_user.register()
    assert english_user.last_text() == "Shall we find something to brighten your time?"
    assert Profile.objects.get(telegram_id=english_user.id).language == "en"


def test_returning_user_start_goes_to_main_screen(user, catalogue):
    user.register()
    calls = user.send("/start")
    assert [c.method for c in calls] == ["sendMessage"]
    assert plain(calls[0].text) == "Давай поищем что-то, что поможет тебе скрасить время?"


def test_a_card_answered_again_changes_the_rating_without_moving_on(user, catalogue):
    user.send("/start")
    for _ in range(3):
        user.press("Готово")
    first = user.messages()[-1]
    user.press("Нравится", message=first)
    second = user.messages()[-1]
    user.press("Не нравится", message=user.message(first["message_id"]))
    assert user.messages()[-1]["message_id"] == second["message_id"]
    item_id = int(buttons(first)[0]["callback_data"].split(":")[1])
    assert Rating.objects.get(item_id=item_id, profile__telegram_id=user.id).value == -1


def test_commands_during_registration_resume_it(user, catalogue):
    user.send("/start")
    calls = user.send("/search")
    texts = [plain(c.text) for c in calls]
    assert "Сначала давай закончим знакомство" in texts[0]
    assert "Какие жанры фильмов тебе нравятся?" in texts[1]
