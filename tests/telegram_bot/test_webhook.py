"""The webhook's guard rails: secret, bad bodies, repeats, failures, Telegram's errors, odd updates."""

import logging
import threading

import pytest
from django.db import connection, connections
from django.test import Client

from catalog.models import ContentItem
from telegram_bot.models import ProcessedUpdate
from telegram_bot.local_bot_api import plain
from tests.factories import ContentItemFactory, OfferFactory
from users.models import Profile

from .conftest import SECRET, TelegramUser, buttons


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1]])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_processed(user, catalogue, secret):
    response = user.post(user.message_update("/start"), secret=secret)
    assert response.status_code == 403
    assert not ProcessedUpdate.objects.exists()
    assert not Profile.objects.filter(telegram_id=user.id).exists()
    assert user.api.calls == []


def test_without_a_configured_secret_the_webhook_is_closed(user, catalogue, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert user.post(user.message_update("/start"), secret="").status_code == 403
    assert user.api.calls == []


@pytest.mark.parametrize("body", [b"not json", b"{", b"\xff\xfe", b"[]", b"42", b'"update"', b"{}",
                                  b'{"update_id": "1"}', b'{"update_id": -1}', b'{"update_id": true}',
                                  b'{"update_id": 5, "message": {"text": "no chat"}}'])
def test_a_body_that_is_not_an_update_is_a_400_and_logged(client, fake_api, db, caplog, body):
    with caplog.at_level(logging.WARNING, logger="telegram_bot"):
        response = client.post("/telegram/webhook/", data=body, content_type="application/json",
                               HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET)
    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert any("Webhook" in record.message for record in caplog.records)
    assert fake_api.calls == []


def test_only_post_is_accepted(client, fake_api, db):
    assert client.get("/telegram/webhook/", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET).status_code == 405


def test_the_same_update_twice_gets_one_reply(user, catalogue):
    update = user.message_update("/start")
    first, second = user.post(update), user.post(update)
    assert first.status_code == second.status_code == 200
    assert second.json()["outcome"] == "duplicate"
    assert len(user.api.calls_of("sendMessage")) == 2  # greeting + film genres, once
    assert ProcessedUpdate.objects.filter(update_id=update["update_id"]).count() == 1


def test_a_failing_handler_is_logged_and_still_answers_200(user, catalogue, caplog):
    user.api.fail_next("sendMessage", 500, "Internal Server Error")
    with caplog.at_level(logging.ERROR, logger="telegram_bot"):
        response = user.post(user.message_update("/start"))
    assert response.status_code == 200 and response.json()["outcome"] == "failed"
    assert any("failed" in record.message for record in caplog.records)
    # The user is told, and the half-done registration was rolled back: /start begins again cleanly.
    assert "Что-то пошло не так" in plain(user.api.calls_of("sendMessage")[-1].text)
    assert Profile.objects.get(telegram_id=user.id).onboarding == Profile.Onboarding.NEW
    user.send("/start")
    assert "Какие жанры фильмов" in user.last_text()


def test_a_failed_update_delivered_again_does_nothing(user, catalogue):
    user.api.fail_next("sendMessage", 500, "Internal Server Error")
    update = user.message_update("/start")
    assert user.post(update).json()["outcome"] == "failed"
    calls = len(user.api.calls)
    assert user.post(update).json()["outcome"] == "duplicate"
    assert len(user.api.calls) == calls
    assert ProcessedUpdate.objects.filter(update_id=update["update_id"]).count() == 1


def test_flood_control_429_waits_retry_after_and_retries(user, catalogue):
    user.api.fail_next("sendMessage", 429, retry_after=1)
    calls = user.send("/start")
    sends = [c for c in calls if c.method == "sendMessage"]
    assert len(sends) == 3  # refused greeting, the greeting again, the genres
    assert sends[1].at - sends[0].at >= 0.9, "waited retry_after before retrying"
    assert "нам нужно познакомиться" in plain(user.messages()[0]["text"])


def test_a_user_who_blocked_the_bot_is_marked_inactive(user, catalogue):
    user.register()
    user.api.block(user.id)
    assert user.post(user.message_update("/search")).status_code == 200
    assert Profile.objects.get(telegram_id=user.id).is_active is False


def test_blocking_and_unblocking_through_my_chat_member(user, catalogue):
    user.register()

    def membership(status):
        return {"update_id": user.message_update()["update_id"], "my_chat_member": {
            "chat": user.chat, "from": user.user, "date": 1,
            "old_chat_member": {"user": {"id": 1, "is_bot": True, "first_name": "bot"}, "status": "member"},
            "new_chat_member": {"user": {"id": 1, "is_bot": True, "first_name": "bot"}, "status": status,
                                "until_date": 0}}}

    assert user.post(membership("kicked")).status_code == 200
    assert Profile.objects.get(telegram_id=user.id).is_active is False
    assert user.post(membership("member")).status_code == 200
    assert Profile.objects.get(telegram_id=user.id).is_active is True


@pytest.mark.parametrize("data", ["zz", "zz:1", "rt", "rt:abc:1", "rt:1:7", "rt:999999999:1", "sm:999999", "sm:x",
                                  "st:1:99999", "mo:deadbeef", "sk:cars", "sg:0", "rd:film", "rg:1", "w:999999999:1", "",
                                  "s" * 64])
def test_old_or_forged_buttons_get_a_polite_note_and_the_main_screen(user, catalogue, data):
    user.register()
    message = user.messages()[-1]
    calls = user.press_data(data, message=message)
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 1 and answers[0].params["text"] == "Кнопка устарела"
    texts = [plain(c.text) for c in calls if c.method == "sendMessage"]
    assert texts == ["Эта кнопка устарела — вот главное меню.", "Давай поищем что-то, что поможет тебе скрасить время?"]


def test_every_callback_is_answered_even_when_the_handler_fails(user, catalogue):
    user.register()
    user.api.fail_next("editMessageText", 500, "Internal Server Error")
    calls = user.press("Поиск")
    assert [c.method for c in calls].count("answerCallbackQuery") == 1


def test_edited_messages_are_ignored(user, catalogue):
    user.register()
    update = user.message_update("/search")
    update["edited_message"] = dict(update.pop("message"), edit_date=2)
    response = user.post(update)
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert not user.api.calls_of("sendMessage", chat_id=user.id)[-1].text.startswith("Какое")


@pytest.mark.parametrize("extra", [
    {"sticker": {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512,
                 "is_animated": False, "is_video": False}},
    {"photo": [{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}]},
    {"voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 2}},
])
def test_stickers_photos_and_voice_get_a_short_help(user, catalogue, extra):
    user.register()
    calls = user.send(None, **extra)
    assert [c.method for c in calls] == ["sendMessage"]
    assert "/search" in plain(calls[0].text) and "/saved" in plain(calls[0].text)


def test_free_text_with_neither_mood_nor_time_gets_a_short_help_and_the_mood_buttons(user, catalogue):
    user.register()
    calls = user.send("привет")
    assert "Напиши настроение и сколько у тебя времени" in plain(calls[0].text)
    assert "😄 Радостное" in [b["text"] for b in calls[0].buttons()]


def test_group_chats_are_ignored_or_told_to_write_privately(user, catalogue):
    group = {"id": -100123, "type": "supergroup", "title": "Friends"}
    chatter = user.message_update("hello everyone")
    chatter["message"]["chat"] = group
    assert user.post(chatter).json()["outcome"] == "ignored"
    assert user.api.calls == []
    command = user.message_update("/start@moodstream_fake_bot")
    command["message"]["chat"] = group
    assert user.post(command).status_code == 200
    assert [plain(c.text) for c in user.api.calls] == ["Я работаю только в личных сообщениях — напиши мне напрямую."]
    assert not Profile.objects.filter(telegram_id=user.id).exists()


def test_catalogue_text_is_escaped_and_cut_to_fit(user, catalogue):
    for item in ContentItem.objects.all():
        item.offers.all().delete()
    # Titles are stored up to 500 characters; the creators list has no limit: 5,000 characters here.
    title = ("<b>Бум</b> & " + "очень длинное название " * 30)[:500]
    creators = ["<script>", "A & B", "Длинное имя " * 420]
    for cover in ("https://covers.example/long.jpg", ""):
        item = ContentItemFactory(kind="film", title=title, creators=creators, length_minutes=90,
                                  rating=9.9, votes=10**7, cover_url=cover)
        OfferFactory(item=item, partner__name="<i>Shop</i> & Co")
    user.register()
    user.send("/search")
    user.press("Радостное")
    calls = user.press("2 ч")
    cards = [c for c in calls if c.method in ("sendPhoto", "sendMessage") and c.buttons()
             and c.buttons()[0].get("callback_data", "").startswith("rt:")]
    assert {c.method for c in cards} == {"sendPhoto", "sendMessage"}
    for card in cards:
        # The fake Bot API refuses malformed HTML and captions over 1024 characters, like Telegram.
        text = plain(card.text)
        assert text.startswith("🎬 <b>Бум</b> & очень длинное название")
        assert "…" in text and len(text) <= 1024
        assert "<script>, A & B" in text
        assert "<i>Shop</i> & Co" in text
        assert "&lt;b&gt;" in card.text and "<b>Бум" not in card.text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_of_one_chat_are_handled_once_each_and_in_turn(fake_api, catalogue):
    user = TelegramUser(Client(), fake_api)
    user.register()
    user.send("/search")
    user.press("Радостное")
    user.press("3 ч и больше")
    cards = [m for m in user.messages() if any(b.get("callback_data", "").startswith("rt:") for b in buttons(m))]
    presses = [user.callback_update(buttons(card)[0]["callback_data"], card) for card in cards]
    # Each press arrives twice at once, as when Telegram retries while the first is still running.
    updates = presses + presses
    fake_api.clear()
    barrier = threading.Barrier(len(updates))

    def deliver(update):
        barrier.wait()
        try:
            assert TelegramUser(Client(), fake_api, user_id=user.id).post(update).status_code == 200
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(u,)) for u in updates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    answered = [c.params["callback_query_id"] for c in fake_api.calls_of("answerCallbackQuery")]
    assert sorted(answered) == sorted(p["callback_query"]["id"] for p in presses)
    # One chat's updates do not interleave: each answer is followed by its own edit.
    methods = [c.method for c in fake_api.calls]
    assert methods == ["answerCallbackQuery", "editMessageReplyMarkup"] * len(presses)


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1b", "\x7f", "\ud800"])
def test_control_characters_anywhere_in_an_update_are_cleaned_and_it_is_handled(user, catalogue, bad):
    user.user["first_name"] = f"Ан{bad}я"
    user.chat["first_name"] = f"Ан{bad}я"
    response = user.post(user.message_update(f"/sta{bad}rt"))
    assert response.status_code == 200 and response.json()["outcome"] == "handled"
    profile = Profile.objects.get(telegram_id=user.id)
    assert profile.first_name == "Аня"
    assert "Привет, Аня!" in plain(user.api.calls_of("sendMessage", chat_id=user.id)[0].text)
    # A callback with one in its data is handled too (as an old button).
    response = user.post(user.callback_update(f"z{bad}z", user.messages()[-1]))
    assert response.status_code == 200
