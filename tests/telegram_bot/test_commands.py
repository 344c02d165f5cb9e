"""set_webhook, runbot and chat against the fake Bot API."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from telegram_bot.models import ChatState
from telegram_bot.local_bot_api import plain
from users.models import Profile, Rating

from .conftest import SECRET


def test_set_webhook_registers_url_secret_and_both_command_menus(fake_api, db, settings):
    settings.PUBLIC_BASE_URL = "https://bot.example"
    out = io.StringIO()
    call_command("set_webhook", stdout=out)
    webhook = fake_api.calls_of("setWebhook")[0].params
    assert webhook["url"] == "https://bot.example/telegram/webhook/"
    assert webhook["secret_token"] == SECRET
    assert set(webhook["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}
    menus = {c.params.get("language_code"): c.params["commands"] for c in fake_api.calls_of("setMyCommands")}
    assert set(menus) == {None, "en"}
    for commands in menus.values():
        assert [c["command"] for c in commands] == ["search", "saved", "settings", "about", "start"]
    assert menus[None][0]["description"] == "Найти фильм, музыку и книгу"
    assert menus["en"][0]["description"] == "Find a film, music and a book"
    assert "Webhook set" in out.getvalue()


def test_set_webhook_needs_a_token_and_a_secret(fake_api, db, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = "short"
    with pytest.raises(CommandError, match="TELEGRAM_WEBHOOK_SECRET"):
        call_command("set_webhook")
    settings.TELEGRAM_BOT_TOKEN = ""
    with pytest.raises(CommandError, match="TELEGRAM_BOT_TOKEN"):
        call_command("set_webhook")
    assert not fake_api.calls_of("setWebhook")


def test_runbot_long_polling_uses_the_same_handlers(user, catalogue):
    user.api.push_update(user.message_update("/start"))
    call_command("runbot", "--once", stdout=io.StringIO())
    methods = [c.method for c in user.api.calls]
    assert methods[:2] == ["getMe", "deleteWebhook"]
    assert "getUpdates" in methods
    assert "нам нужно познакомиться" in plain(user.messages()[0]["text"])
    assert Profile.objects.get(telegram_id=user.id).onboarding == Profile.Onboarding.GENRES


class Typist:
    """Types into `chat` like a person reading the screen: ("press", label) types the number shown for it."""

    def __init__(self, out: io.StringIO, steps: list):
        self.out, self.steps = out, list(steps)

    def readline(self) -> str:
        if not self.steps:
            return ""
        step = self.steps.pop(0)
        if isinstance(step, tuple):
            numbers = re.findall(r"\[(\d+)\] [^\[\n]*?" + re.escape(step[1]), self.out.getvalue())
            assert numbers, f"no button {step[1]!r} on screen:\n{self.out.getvalue()[-3000:]}"
            return numbers[-1] + "\n"
        return step + "\n"


def test_chat_walks_registration_search_and_settings_without_a_token(catalogue, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    out = io.StringIO()
    steps = ["/start", ("press", "Комедия"), ("press", "Готово"), ("press", "Джаз"), ("press", "Готово"),
             ("press", "Готово")] + [("press", "🤷 Не знаю")] * 9 + [
        ("press", "Поиск"), ("press", "Радостное"), "abc", "120 мин", ("press", "👍 Нравится"),
        ("press", "Ещё варианты"), "/settings", ("press", "Книги"), ("press", "Детектив"), ("press", "Готово"),
        ("press", "Назад"), "/quit"]
    call_command("chat", "--user-id", "777", stdin=Typist(out, steps), stdout=out)
    text = out.getvalue()
    assert "нам нужно познакомиться" in text
    assert "[1] ✓ Комедия" in text or "✓ Комедия" in text
    assert "Карточка 9 из 9" in text
    assert "Давай поищем что-то, что поможет тебе скрасить время?" in text
    assert "Напиши число минут от 5 до 1440" in text
    assert "🔗 🛒" in text and "/go/" in text
    assert "✅ Нравится" in text and "Что дальше?" in text
    assert "💬 Сохранено" in text
    profile = Profile.objects.get(telegram_id=777)
    assert Rating.objects.filter(profile=profile, source="onboarding").count() == 9
    assert Rating.objects.filter(profile=profile, source="search", value=1).count() == 1
    assert sorted(g.name_ru for g in profile.genres.all()) == ["Детектив", "Джаз", "Комедия"]


def test_a_restarted_chat_goes_on_where_the_last_one_stopped(catalogue, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    first = io.StringIO()
    call_command("chat", "--user-id", "778", stdin=Typist(first, ["/start", ("press", "Комедия"), ("press", "Готово"),
                                                                 "/quit"]), stdout=first)
    assert "Какую музыку ты любишь?" in first.getvalue()
    # Started again at once (the same second): what the user types is answered, not taken for a repeat.
    again = io.StringIO()
    call_command("chat", "--user-id", "778", stdin=Typist(again, ["привет", "/quit"]), stdout=again)
    assert "Какую музыку ты любишь?" in again.getvalue()
    assert ChatState.objects.get(chat_id=778).screen == "reg_genres"


def test_chat_explains_an_empty_catalogue(db):
    with pytest.raises(CommandError, match="load_demo"):
        call_command("chat", stdin=io.StringIO(""), stdout=io.StringIO())
