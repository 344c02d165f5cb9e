"""About ("More" on the main screen, /about): what the bot does and how it works, then Search."""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from users.models import Profile

from ..conversation import Turn, on_callback, on_command
from .main import CB_MAIN

SCREEN = "about"


def keyboard(turn: Turn) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(turn.t("search"), callback_data="s")],
                                 [InlineKeyboardButton(turn.t("back"), callback_data=CB_MAIN)]])


@on_command("about", before_registration=True)
def about_command(turn: Turn) -> None:
    """/about: the explanation; its buttons only once registration is done."""
    done = turn.profile.onboarding == Profile.Onboarding.DONE
    turn.send(turn.t("about"), keyboard(turn) if done else None)


@on_callback("about")
def about_button(turn: Turn, args: list[str]) -> None:
    """"More" on the main screen: the explanation in place, then Search."""
    turn.answer()
    turn.edit(turn.t("about"), keyboard(turn))
    turn.go(SCREEN)
