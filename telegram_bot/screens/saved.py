"""Saved for later: 🔖 under a search card keeps the item; /saved lists them with the shops' current offers.

A save is the user's own choice, not a record of what was shown; the recommender does not read it
(yet). The list is one message, a page of `PAGE_SIZE` items, each with its best offer now (a URL
button to the tracked /go/ link) and a remove button; ◀️ / ▶️ turn the pages in place.
"""

import uuid

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from users.services import saved_item_add, saved_item_remove

from .. import selectors
from ..cards import KIND_ICONS, mark_saved, offer_price, titles
from ..conversation import StaleButton, Turn, int_arg, on_callback, on_command
from ..formatting import MESSAGE_LIMIT, cut, esc, join_within
from .main import CB_MAIN

SCREEN = "saved"
CB_SAVE, CB_PAGE, CB_REMOVE, CB_OPEN = "sv", "sp", "sx", "so"
PAGE_SIZE = 5


# --- 🔖 under a card -------------------------------------------------------------------------
@on_callback(CB_SAVE)
def save_toggle(turn: Turn, args: list[str]) -> None:
    """🔖 Save: keep the item (with the recommendation that showed it); "Saved ✓" pressed again removes it."""
    item_id = int_arg(args, 0)
    recommendation = _uuid(args[1]) if len(args) > 1 else None
    if selectors.saved_item_ids(profile=turn.profile, item_ids=[item_id]):
        saved_item_remove(profile=turn.profile, item_id=item_id)
        saved, toast = False, "save_removed"
    else:
        if not saved_item_add(profile=turn.profile, item_id=item_id, recommendation_id=recommendation):
            raise StaleButton
        saved, toast = True, "save_done"
    turn.answer(turn.t(toast))
    message = turn.query.message
    turn.edit_markup(mark_saved(message.reply_markup if message else None, prefix=CB_SAVE, item_id=item_id,
                                saved=saved, language=turn.lang))


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(hex=text)
    except ValueError:
        raise StaleButton from None


# --- the list ---------------------------------------------------------------------------------
@on_command("saved")
def saved_command(turn: Turn) -> None:
    """/saved: the first page of the saved items."""
    text, markup = _page(turn, 0)
    turn.send(text, markup)
    turn.go(SCREEN)


@on_callback(CB_OPEN)
def saved_button(turn: Turn, args: list[str]) -> None:
    """"🔖 Saved" on the main screen: the list in place."""
    turn.answer()
    text, markup = _page(turn, 0)
    turn.edit(text, markup)
    turn.go(SCREEN)


@on_callback(CB_PAGE)
def saved_turn_page(turn: Turn, args: list[str]) -> None:
    """◀️ / ▶️: another page in place."""
    turn.answer()
    text, markup = _page(turn, max(0, int_arg(args, 0)))
    turn.edit(text, markup)


@on_callback(CB_REMOVE)
def saved_remove(turn: Turn, args: list[str]) -> None:
    """✖️: forget one item and redraw the page (the previous one when it became empty)."""
    item_id, page = int_arg(args, 0), max(0, int_arg(args, 1))
    removed = saved_item_remove(profile=turn.profile, item_id=item_id)
    turn.answer(turn.t("save_removed") if removed else None)
    text, markup = _page(turn, page)
    turn.edit(text, markup)


def _page(turn: Turn, page: int) -> tuple[str, InlineKeyboardMarkup]:
    entries, total = selectors.saved_page(profile=turn.profile, page=page, size=PAGE_SIZE)
    if not entries and page > 0 and total:  # past the end (an item removed from the last page): the last page
        page = (total - 1) // PAGE_SIZE
        entries, total = selectors.saved_page(profile=turn.profile, page=page, size=PAGE_SIZE)
    back = [InlineKeyboardButton(turn.t("search"), callback_data="s"),
            InlineKeyboardButton(turn.t("back"), callback_data=CB_MAIN)]
    if not entries:
        return turn.t("saved_empty"), InlineKeyboardMarkup([back])
    pages = -(-total // PAGE_SIZE)
    lines = [turn.t("saved_title", total=total)]
    rows = []
    for number, entry in enumerate(entries, start=page * PAGE_SIZE + 1):
        item = entry.item
        title = titles(item, turn.lang)[0]
        year = f" ({item.year})" if item.year else ""
        creators = ", ".join(str(name) for name in (item.creators or [])[:2] if name)
        shop = (f"🛒 {esc(entry.offer.partner_name, 40)} — {offer_price(entry.offer, turn.lang)}" if entry.offer
                else turn.t("saved_no_offer"))
        lines.append(f"\n{number}. {KIND_ICONS.get(item.kind, '')} <b>{esc(title, 150)}</b>{year}"
                     + (f"\n{esc(creators, 100)}" if creators else "") + f"\n{shop}")
        row = []
        if entry.offer:
            row.append(InlineKeyboardButton(f"🛒 {number}. {cut(title, 30)}", url=entry.offer.link))
        row.append(InlineKeyboardButton(turn.t("saved_remove", n=number),
                                        callback_data=f"{CB_REMOVE}:{item.pk}:{page}"))
        rows.append(row)
    if pages > 1:
        lines.append("\n<i>" + turn.t("saved_page", page=page + 1, pages=pages) + "</i>")
        nav = []
        if page > 0:
            nav.append(InlineKeyboardButton(turn.t("saved_prev"), callback_data=f"{CB_PAGE}:{page - 1}"))
        if page + 1 < pages:
            nav.append(InlineKeyboardButton(turn.t("saved_next"), callback_data=f"{CB_PAGE}:{page + 1}"))
        rows.append(nav)
    rows.append(back)
    return join_within(lines, MESSAGE_LIMIT), InlineKeyboardMarkup(rows)
