"""Settings: "What would you like to change?" — Films / Music / Books open the genre toggles; Language
(Русский / English, stored on the profile and winning over the Telegram client's from then on); Back → main."""

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from catalog.models import Kind
from users.services import LANGUAGES, profile_set_language

from ..bot_api import BotApiError
from ..conversation import StaleButton, Turn, on_callback, on_command
from ..services import commands_menu_set_for_chat
from . import genre_picker
from .main import CB_MAIN

SCREEN, GENRES_SCREEN, LANGUAGE_SCREEN = "settings", "settings_genres", "settings_language"
CB_KIND, CB_TOGGLE, CB_DONE, CB_LANGUAGE, CB_LANGUAGE_SET, CB_SETTINGS = "sk", "sg", "sd", "sl", "ss", "se"
logger = logging.getLogger(__name__)
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}  # each in its own language, whatever the current one
KIND_BUTTONS = ((Kind.FILM, "settings_films"), (Kind.TRACK, "settings_music"), (Kind.BOOK, "settings_books"))
KINDS = tuple(str(kind) for kind, _key in KIND_BUTTONS)


def show(turn: Turn, *, edit: bool) -> None:
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton(turn.t(key), callback_data=f"{CB_KIND}:{kind}") for kind, key in KIND_BUTTONS],
        [InlineKeyboardButton(turn.t("settings_language"), callback_data=CB_LANGUAGE)],
        [InlineKeyboardButton(turn.t("back"), callback_data=CB_MAIN)],
    ])
    if edit:
        turn.edit(turn.t("settings_q"), markup)
    else:
        turn.send(turn.t("settings_q"), markup)
    turn.go(SCREEN)


@on_command("settings")
def settings_command(turn: Turn) -> None:
    """/settings: what to change."""
    show(turn, edit=False)


def _keyboard(turn: Turn, kind: str) -> InlineKeyboardMarkup:
    return genre_picker.keyboard(turn, kind, toggle_prefix=CB_TOGGLE, done_data=f"{CB_DONE}:{kind}",
                                 done_label=turn.t("genres_save"))


@on_callback(CB_KIND)
def kind_chosen(turn: Turn, args: list[str]) -> None:
    """Films, Music or Books: that kind's genre toggles in the same message."""
    kind = args[0] if args else ""
    if kind not in KINDS:
        raise StaleButton
    turn.answer()
    turn.edit(genre_picker.question(turn, kind), _keyboard(turn, kind))
    turn.go(GENRES_SCREEN, kind=kind)


@on_callback(CB_TOGGLE)
def toggle_genre(turn: Turn, args: list[str]) -> None:
    """A genre tapped: mark or unmark it in place."""
    genre = genre_picker.toggle(turn, args)
    turn.answer()
    turn.edit_markup(_keyboard(turn, genre.kind))


@on_callback(CB_DONE)
def genres_done(turn: Turn, args: list[str]) -> None:
    """"Done": back to the settings question."""
    if (args[0] if args else "") not in KINDS:
        raise StaleButton
    turn.answer(turn.t("saved"))
    show(turn, edit=True)


@on_callback(CB_SETTINGS)
def settings_button(turn: Turn, args: list[str]) -> None:
    """"Back" from the language question: the settings in place."""
    turn.answer()
    show(turn, edit=True)


@on_callback(CB_LANGUAGE)
def language_question(turn: Turn, args: list[str]) -> None:
    """"Language": Русский / English (the current one marked), in place."""
    turn.answer()
    buttons = [InlineKeyboardButton(("✓ " if code == turn.lang else "") + LANGUAGE_NAMES[code],
                                    callback_data=f"{CB_LANGUAGE_SET}:{code}") for code in LANGUAGES]
    turn.edit(turn.t("language_q"), InlineKeyboardMarkup([buttons, [InlineKeyboardButton(turn.t("back"),
                                                                                         callback_data=CB_SETTINGS)]]))
    turn.go(LANGUAGE_SCREEN)


@on_callback(CB_LANGUAGE_SET)
def language_chosen(turn: Turn, args: list[str]) -> None:
    """A language chosen: stored (it wins over the client's from now on); the settings again, in it."""
    language = args[0] if args else ""
    if language not in LANGUAGES:
        raise StaleButton
    profile_set_language(profile=turn.profile, language=language)
    turn.answer(turn.t("language_set"))
    try:
        commands_menu_set_for_chat(bot=turn.bot, chat_id=turn.chat_id, language=language)
    except BotApiError:  # the menu is a nicety; the language is stored and every screen follows it anyway
        logger.warning("Could not set the command menu of chat %s", turn.chat_id)
    show(turn, edit=True)
