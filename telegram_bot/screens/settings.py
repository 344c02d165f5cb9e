"""Settings: "What would you like to change?" — Films / Music / Books open the genre toggles; Back → main."""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from catalog.models import Kind

from ..conversation import StaleButton, Turn, on_callback, on_command
from . import genre_picker
from .main import CB_MAIN

SCREEN, GENRES_SCREEN = "settings", "settings_genres"
CB_KIND, CB_TOGGLE, CB_DONE = "sk", "sg", "sd"
KIND_BUTTONS = ((Kind.FILM, "settings_films"), (Kind.TRACK, "settings_music"), (Kind.BOOK, "settings_books"))
KINDS = tuple(str(kind) for kind, _key in KIND_BUTTONS)


def show(turn: Turn, *, edit: bool) -> None:
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton(turn.t(key), callback_data=f"{CB_KIND}:{kind}") for kind, key in KIND_BUTTONS],
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
