"""The genre toggles shared by registration and settings: a tap marks a genre ✓, a second tap unmarks it."""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from catalog.models import Genre
from users.services import profile_toggle_genre

from ..conversation import StaleButton, Turn, int_arg
from ..selectors import chosen_genre_ids, genres_of_kind

COLUMNS = 2


def question(turn: Turn, kind: str, *, step: int | None = None) -> str:
    lines = [turn.t(f"genres_q_{kind}"), "", turn.t("genres_hint")]
    if step:
        lines.append(f"<i>{turn.t('genres_step', n=step)}</i>")
    return "\n".join(lines)


def keyboard(turn: Turn, kind: str, *, toggle_prefix: str, done_data: str, done_label: str) -> InlineKeyboardMarkup:
    """Every genre of `kind` (✓ when chosen), `COLUMNS` a row, and the Done button."""
    chosen = chosen_genre_ids(profile=turn.profile, kind=kind)
    buttons = [InlineKeyboardButton(("✓ " if genre.pk in chosen else "") + genre.name(turn.lang),
                                    callback_data=f"{toggle_prefix}:{genre.pk}")
               for genre in genres_of_kind(kind=kind, language=turn.lang)]
    rows = [buttons[i:i + COLUMNS] for i in range(0, len(buttons), COLUMNS)]
    rows.append([InlineKeyboardButton(done_label, callback_data=done_data)])
    return InlineKeyboardMarkup(rows)


def toggle(turn: Turn, args: list[str]) -> Genre:
    """Flip the genre named by the button; returns it."""
    genre = Genre.objects.filter(pk=int_arg(args, 0)).first()
    if genre is None:
        raise StaleButton
    profile_toggle_genre(profile=turn.profile, genre=genre)
    return genre
