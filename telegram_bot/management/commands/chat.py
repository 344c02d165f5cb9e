import html
import itertools
import re
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from catalog.models import Mood
from telegram_bot.bot_api import BotApi
from telegram_bot.dispatcher import update_process
from telegram_bot.models import ProcessedUpdate
from telegram_bot.local_bot_api import FakeBotApi

_TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>")


class Command(BaseCommand):
    help = ("Chat with the bot in this terminal, no Telegram token needed: the same handlers run against a "
            "built-in fake Bot API. Buttons are numbered; type a number to press one, anything else is sent "
            "as a message.")
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--lang", choices=["ru", "en"], default="ru", help="Your Telegram language.")
        parser.add_argument("--user-id", type=int, default=10001, help="Your pretend Telegram user id.")
        parser.add_argument("--name", default="", help="Your first name.")

    def handle(self, *args, **options):
        if not Mood.objects.exists():
            raise CommandError("The catalogue is empty. Run `python manage.py migrate` and "
                               "`python manage.py load_demo` first.")
        self.stdin = options.get("stdin") or sys.stdin
        self.color = self.stdout.isatty()
        english = options["lang"] == "en"
        name = options["name"] or ("Alex" if english else "Саша")
        self.user = {"id": options["user_id"], "is_bot": False, "first_name": name, "username": "terminal",
                     "language_code": options["lang"]}
        self.chat = {"id": options["user_id"], "type": "private", "first_name": name}
        # Each update id is handled once, ever: a chat restarted seconds after the last one must not
        # reuse its ids (they would be ignored as Telegram's repeats), so start above every id seen.
        last_seen = ProcessedUpdate.objects.aggregate(last=Max("update_id"))["last"] or 0
        self.update_ids = itertools.count(max(int(time.time()), last_seen + 1))
        self.live: list[int] = []  # messages whose buttons the numbers refer to
        self.shown_up_to = 0  # the last message id printed
        with FakeBotApi(token="chat:terminal") as api:
            self.api = api
            self.bot = BotApi(token=api.token, base_url=api.base_url)
            self.stdout.write(self._bold("MoodStream in your terminal.") + (
                " Type /start to begin. A number presses a button (a time or words: “45 min”, “sad, 2 hours”); "
                "/quit or Ctrl+D leaves." if english else
                " Напиши /start. Число нажимает кнопку (время или слова пиши так: «45 мин», «грустно, 2 часа»); "
                "/quit или Ctrl+D — выход."))
            self._loop()

    def _loop(self) -> None:
        while True:
            self.stdout.write("\n› ", ending="")
            self.stdout.flush()
            line = self.stdin.readline()
            if not line or line.strip() in ("/quit", "/exit"):
                self.stdout.write("")
                return
            line = line.strip()
            if not line:
                continue
            update = self._press(int(line)) if line.isdigit() and int(line) in self._numbers() else self._message(line)
            before = len(self.api.calls)
            update_process(payload=update, bot=self.bot)
            self._render(self.api.calls[before:])

    # --- updates the user causes -------------------------------------------------------------
    def _message(self, text: str) -> dict:
        message = {"message_id": next(self.update_ids), "date": int(time.time()), "from": self.user,
                   "chat": self.chat, "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": next(self.update_ids), "message": message}

    def _press(self, number: int) -> dict:
        message_id, data = self._numbers()[number]
        message = self.api.message(self.chat["id"], message_id)
        return {"update_id": next(self.update_ids), "callback_query": {
            "id": str(next(self.update_ids)), "from": self.user, "chat_instance": "terminal",
            "message": message, "data": data}}

    def _numbers(self) -> dict[int, tuple[int, str]]:
        numbers, counter = {}, itertools.count(1)
        for message_id in self.live:
            for button in self._buttons(message_id):
                if "callback_data" in button:
                    numbers[next(counter)] = (message_id, button["callback_data"])
        return numbers

    def _buttons(self, message_id: int) -> list[dict]:
        message = self.api.message(self.chat["id"], message_id) or {}
        return [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]

    # --- what the bot did ------------------------------------------------------------------------
    def _render(self, calls) -> None:
        chat_id = self.chat["id"]
        new = [m["message_id"] for m in self.api.chat_messages(chat_id) if m["message_id"] > self.shown_up_to]
        self.shown_up_to = max([self.shown_up_to, *new])
        shown = [(message_id, "new") for message_id in new]
        toasts = []
        for call in calls:
            if call.method.startswith("editMessage") and call.params.get("message_id"):
                message_id = int(call.params["message_id"])
                # Only new buttons on an old message: one line is enough to show what changed.
                how = "buttons" if call.method == "editMessageReplyMarkup" else "edited"
                shown = [entry for entry in shown if entry[0] != message_id or entry[1] == "new"]
                if all(entry[0] != message_id for entry in shown):
                    shown.append((message_id, how))
            elif call.method == "answerCallbackQuery" and call.params.get("text"):
                toasts.append(call.params["text"])
        arrived = [message_id for message_id in new if self._buttons(message_id)]
        if arrived:
            self.live = arrived  # new keyboards arrived: the numbers now refer to them
        numbers = {(message_id, data): number for number, (message_id, data) in self._numbers().items()}
        for toast in toasts:
            self.stdout.write(f"  💬 {toast}")
        for message_id, how in sorted(shown, key=lambda entry: entry[0]):
            self._print_message(message_id, how, numbers)

    def _print_message(self, message_id: int, how: str, numbers: dict) -> None:
        message = self.api.message(self.chat["id"], message_id)
        if message is None:
            return
        text = self._plain(message.get("text") or message.get("caption") or "")
        self.stdout.write("")
        if how == "buttons":
            title = next((line for line in text.split("\n") if line.strip()), "")
            self.stdout.write(self._dim(f"  ✏️ {title[:70]}"))
        else:
            if how == "edited":
                self.stdout.write(self._dim("  ✏️"))
            if "photo" in message:
                self.stdout.write(self._dim(f"  [cover] {self.api.photo_urls.get((self.chat['id'], message_id), '')}"))
            self.stdout.write("\n".join("  " + line for line in text.split("\n")))
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            cells = []
            for button in row:
                if "url" in button:
                    cells.append(f"🔗 {button['text']} → {button['url']}")
                else:
                    number = numbers.get((message_id, button.get("callback_data")))
                    cells.append(f"[{number}] {button['text']}" if number else f"({button['text']})")
            self.stdout.write("    " + "   ".join(cells))

    def _plain(self, text: str) -> str:
        def tag(match):
            closing, name = match.group(1), match.group(2)
            if not self.color or name not in ("b", "i"):
                return ""
            return "\033[0m" if closing else ("\033[1m" if name == "b" else "\033[3m")
        return html.unescape(_TAG.sub(tag, text))

    def _bold(self, text: str) -> str:
        return f"\033[1m{text}\033[0m" if self.color else text

    def _dim(self, text: str) -> str:
        return f"\033[2m{text}\033[0m" if self.color else text
