"""Main screen: "Shall we find something to brighten your time?" with More and Search."""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..conversation import Turn, on_callback

SCREEN = "main"
CB_MAIN = "main"


def keyboard(turn: Turn) -> InlineKeyboardMarkup:
    # "about", "s" and "so" are handled by the about, search and saved screens.
    return InlineKeyboardMarkup([[InlineKeyboardButton(turn.t("more"), callback_data="about"),
                                  InlineKeyboardButton(turn.t("search"), callback_data="s")],
                                 [InlineKeyboardButton(turn.t("saved_open"), callback_data="so")]])


def show(turn: Turn, *, edit: bool = False) -> None:
    """Show the main screen, in place of the pressed message when `edit`."""
    if edit:
        turn.edit(turn.t("main"), keyboard(turn))
    else:
        turn.send(turn.t("main"), keyboard(turn))
    turn.go(SCREEN)


@on_callback(CB_MAIN)
def main_button(turn: Turn, args: list[str]) -> None:
    """"Back" from settings or about: the main screen in place."""
    turn.answer()
    show(turn, edit=True)
