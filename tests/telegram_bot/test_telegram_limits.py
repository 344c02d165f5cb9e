"""Issue 16, "production configuration Telegram accepts": set_webhook checks the Bot API's limits
before calling it, and a refused toast (answerCallbackQuery, e.g. 429) never aborts a handler."""

import time

import pytest
from django.core.management import CommandError, call_command

from users.models import Profile


@pytest.mark.parametrize(("secret", "reason"), [
    ("secret with spaces-0123456789", "it contains ' '"),
    ("пароль-0123456789abcdef", "it contains"),
    ("a" * 257, "at most 256 characters; it has 257"),
])
def test_set_webhook_refuses_a_secret_telegram_would_refuse(fake_api, db, settings, secret, reason):
    settings.TELEGRAM_WEBHOOK_SECRET = secret
    with pytest.raises(CommandError, match="TELEGRAM_WEBHOOK_SECRET may hold only letters") as refused:
        call_command("set_webhook", "--url", "https://bot.example/telegram/webhook/")
    assert reason in str(refused.value)
    assert fake_api.calls == []  # Telegram was not called


@pytest.mark.parametrize("max_connections", ["0", "101", "-5"])
def test_set_webhook_refuses_max_connections_outside_1_to_100(fake_api, db, max_connections):
    with pytest.raises(CommandError, match=f"--max-connections must be between 1 and 100, not {max_connections}"):
        call_command("set_webhook", "--url", "https://bot.example/telegram/webhook/",
                     f"--max-connections={max_connections}")
    assert fake_api.calls == []


def test_set_webhook_accepts_the_limits_themselves(fake_api, db, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = "A-z_9" * 51 + "x"  # 256 characters of the allowed alphabet
    call_command("set_webhook", "--url", "https://bot.example/telegram/webhook/", "--max-connections=100")
    webhook = fake_api.calls_of("setWebhook")[0].params
    assert (len(webhook["secret_token"]), webhook["max_connections"]) == (256, 100)


@pytest.mark.parametrize("retry_after", [3, 60])
def test_a_429_on_the_toast_neither_aborts_nor_delays_the_handler(user, catalogue, retry_after):
    user.send("/start")
    user.api.fail_next("answerCallbackQuery", 429, retry_after=retry_after)

    started = time.monotonic()
    calls = user.press("Комедия")

    assert time.monotonic() - started < 2  # the toast's 429 is not waited out
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageReplyMarkup"]  # no apology sent
    assert [g.name_ru for g in Profile.objects.get(telegram_id=user.id).genres.all()] == ["Комедия"]
