"""The benchmark's Bot API (its own process): answers like Telegram for the bot's methods and records every call."""

import http.client
import json
import subprocess
import sys
from pathlib import Path

import pytest

from telegram_bot.bot_api import BotApi, BotApiError, EditFailed

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "1:BENCH"


@pytest.fixture
def bench_api():
    process = subprocess.Popen([sys.executable, "-m", "telegram_bot.benchmark_api", "--token", TOKEN], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline().split()[1])
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _chat(port: int, chat_id: int, since: int = 0, query: str | None = None) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/_bench/chat", json.dumps({"chat_id": chat_id, "since": since, "query": query}))
    return json.loads(connection.getresponse().read())


def test_it_answers_the_bots_calls_and_records_them(bench_api):
    bot = BotApi(token=TOKEN, base_url=f"http://127.0.0.1:{bench_api}/bot")
    keyboard = {"inline_keyboard": [[{"text": "Like", "callback_data": "rt:1:1"}]]}
    first = bot.call("sendMessage", chat_id=7, text="<b>hi</b>", reply_markup=keyboard)
    photo = bot.send_photo(7, "https://covers.example/1.jpg", "a card")
    assert (first["message_id"], photo["message_id"]) == (1, 2)
    bot.edit_text(7, 1, "edited")
    bot.edit_text(7, 1, "edited")  # "message is not modified": ignored, as with Telegram
    with pytest.raises(EditFailed):
        bot.edit_text(7, 2, "a photo has no text")
    with pytest.raises(EditFailed):
        bot.edit_markup(7, 99, None)
    bot.answer_callback("q1", "saved")
    bot.send_message(8, "another chat")

    chat = _chat(bench_api, 7, query="q1")
    assert [method for method, _at in chat["calls"]] == [
        "sendMessage", "sendPhoto", "editMessageText", "editMessageText", "editMessageText", "editMessageReplyMarkup"]
    assert chat["count"] == 6 and len(chat["answers"]) == 1
    assert [m.get("text") or m.get("caption") for m in chat["messages"]] == ["edited", "a card"]
    assert "reply_markup" not in chat["messages"][0]  # the edit sent no keyboard, so it was removed
    arrivals = [at for _method, at in chat["calls"]]
    assert arrivals == sorted(arrivals)
    assert _chat(bench_api, 7, since=5)["calls"][0][0] == "editMessageReplyMarkup"
    assert _chat(bench_api, 8)["count"] == 1


def test_a_wrong_token_is_refused(bench_api):
    with pytest.raises(BotApiError) as error:
        BotApi(token="2:OTHER", base_url=f"http://127.0.0.1:{bench_api}/bot").call("getMe")
    assert error.value.status == 401
