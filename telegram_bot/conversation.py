"""What a handler works with: one update's context (`Turn`) and the routing tables the screens fill.

Callback data are short codes `<prefix>[:<arg>...]` (Telegram allows 64 bytes): each screen
module registers its prefixes, commands and typed-text screens with the decorators below.
"""

from collections.abc import Callable

from telegram import InlineKeyboardMarkup, Update

from users.models import Profile

from . import texts
from .bot_api import BotApi, BotApiError, EditFailed
from .models import ChatState

Handler = Callable[..., None]
CALLBACKS: dict[str, Handler] = {}
COMMANDS: dict[str, Handler] = {}
TEXT_INPUT: dict[str, Handler] = {}  # screen → handler of typed text on that screen
WORDS: list[Handler] = []  # the handler of typed text on every other screen (one)
# Handlers a user may reach before finishing registration; everything else resumes it.
BEFORE_REGISTRATION: set[Handler] = set()


def on_callback(prefix: str, *, before_registration: bool = False):
    """Register a handler for callback data `prefix` or `prefix:args`; it receives the args as strings."""
    def register(handler: Handler) -> Handler:
        CALLBACKS[prefix] = handler
        if before_registration:
            BEFORE_REGISTRATION.add(handler)
        return handler
    return register


def on_command(*names: str, before_registration: bool = False):
    def register(handler: Handler) -> Handler:
        for name in names:
            COMMANDS[name] = handler
        if before_registration:
            BEFORE_REGISTRATION.add(handler)
        return handler
    return register


def on_text(screen: str):
    def register(handler: Handler) -> Handler:
        TEXT_INPUT[screen] = handler
        return handler
    return register


def on_words(handler: Handler) -> Handler:
    """Register the handler of text typed where no screen expects any (people just write)."""
    WORDS[:] = [handler]
    return handler


class StaleButton(Exception):
    """Callback data from an old or forged button: the user gets a polite note and the main screen."""


class Turn:
    """One update being handled: who, where, the state, and the Bot API calls that answer it."""

    def __init__(self, *, bot: BotApi, update: Update, profile: Profile, state: ChatState):
        self.bot = bot
        self.update = update
        self.profile = profile
        self.state = state
        self.chat_id = state.chat_id
        self.query = update.callback_query
        self.answered = False

    @property
    def lang(self) -> str:
        return self.profile.language

    def t(self, key: str, **values) -> str:
        return texts.t(self.lang, key, **values)

    # --- state ---------------------------------------------------------------------------
    # Kept across screens: "More options" of the last search works after a visit to settings.
    STICKY = ("search",)

    def go(self, screen: str, **data) -> None:
        """Move the chat to `screen` with `data` (saved when the update is done)."""
        sticky = {key: self.state.data[key] for key in self.STICKY if key in self.state.data and key not in data}
        self.state.screen = screen
        self.state.data = {**sticky, **data}

    # --- replies -------------------------------------------------------------------------
    def answer(self, text: str | None = None) -> None:
        """Answer the callback query (once); Telegram shows `text` as a short toast."""
        if self.query is not None and not self.answered:
            self.answered = True
            self.bot.answer_callback(self.query.id, text)

    def send(self, text: str, markup: InlineKeyboardMarkup | None = None) -> int:
        return self.bot.send_message(self.chat_id, text, markup)["message_id"]

    def send_card(self, text: str, *, photo: str = "", markup: InlineKeyboardMarkup | None = None) -> int:
        """A card: a photo with the caption when there is a cover, else a text message."""
        if photo:
            try:
                return self.bot.send_photo(self.chat_id, photo, text, markup)["message_id"]
            except BotApiError as exc:
                # Telegram could not fetch the cover (dead link, not an image): show the card without it.
                if exc.status != 400:
                    raise
        return self.send(text, markup)

    @property
    def message_id(self) -> int | None:
        """The message whose button was pressed."""
        message = self.query.message if self.query else None
        return message.message_id if message else None

    def edit(self, text: str, markup: InlineKeyboardMarkup | None = None) -> int:
        """Show `text` in place of the pressed message (a new message when it cannot be edited)."""
        message = self.query.message if self.query else None
        if message is not None and message.text is not None:
            try:
                self.bot.edit_text(self.chat_id, message.message_id, text, markup)
                return message.message_id
            except EditFailed:
                pass
        return self.send(text, markup)

    def edit_markup(self, markup: InlineKeyboardMarkup | None, message_id: int | None = None) -> None:
        """Replace the buttons of the pressed message (or of `message_id`); a vanished message is left alone."""
        target = message_id or self.message_id
        if target is None:
            return
        try:
            self.bot.edit_markup(self.chat_id, target, markup)
        except EditFailed:
            pass


def int_arg(args: list[str], index: int) -> int:
    """The callback argument at `index` as an int; anything else is a forged or outdated button."""
    try:
        return int(args[index])
    except (IndexError, ValueError):
        raise StaleButton from None
