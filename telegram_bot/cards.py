"""How one catalogue item is shown: the card's text and its Like / Don't know / Dislike and shop buttons.

Shared by the warm-up cards of registration and the search results.
"""

import re
from collections.abc import Iterable
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from catalog.models import ContentItem, Kind, OfferType
from recommender.index import reading_minutes
from recommender.types import OfferPick, Reason

from .formatting import CAPTION_LIMIT, cut, esc, visible_length
from .texts import duration, money, t

_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
KIND_ICONS = {Kind.FILM: "🎬", Kind.TRACK: "🎵", Kind.BOOK: "📚"}
# Rating values in button order, with their text keys.
RATINGS = ((1, "like"), (0, "unknown"), (-1, "dislike"))
MAX_SHOP_BUTTONS = 2
# The recommender's reasons that state a book's reading time (recommender/reasons.py).
BOOK_TIME_REASONS = {"time_fits", "several_evenings"}


def card_text(item: ContentItem, *, language: str, reasons: Iterable[Reason] = (),
              offers: Iterable[OfferPick] = (), header: str = "", limit: int = CAPTION_LIMIT) -> str:
    """The card as Telegram HTML, within `limit` visible characters (a photo caption by default)."""
    head = []
    if header:
        head.append(f"<i>{header}</i>")
    year = f" ({item.year})" if item.year else ""
    title, other_title = titles(item, language)
    head.append(f"{KIND_ICONS.get(item.kind, '')} <b>{esc(title, 200)}</b>{year}")
    if other_title:
        head.append(f"<i>{esc(other_title, 120)}</i>")
    creators = ", ".join(str(name) for name in (item.creators or [])[:3] if name)
    if creators:
        head.append(esc(creators, 150))
    reasons = list(reasons)
    facts = [", ".join(genre.name(language) for genre in list(item.genres.all())[:4])]
    # A book's reading time is the recommender's (its time fit, in the reasons) when it gave one, so
    # the card never states two different times; otherwise the card works it out from the pages.
    recommender_timed = any(reason.code in BOOK_TIME_REASONS for reason in reasons)
    facts.append(item_length(item, language, reading_time=not (item.kind == Kind.BOOK and recommender_timed)))
    if item.rating:
        facts.append(f"★ {item.rating:.1f}")
    facts_line = " · ".join(fact for fact in facts if fact)
    if facts_line:
        head.append(esc(facts_line, 200))

    shops = [t(language, "shop_line", shop=esc(offer.partner_name, 60), price=offer_price(offer, language))
             for offer in list(offers)[:MAX_SHOP_BUTTONS]]
    why = "; ".join(esc(reason.text(language), 120) for reason in list(reasons)[:4])
    body = head + ([""] + [t(language, "why", reasons=why)] if why else []) + ([""] + shops if shops else [])
    text = "\n".join(body)
    if visible_length(text) > limit:
        text = "\n".join(head + ([""] + shops if shops else []))
    if visible_length(text) > limit:  # cannot happen with the caps above; never send an oversized caption
        text = esc(cut(item.title, limit - 10))
    return text


def titles(item: ContentItem, language: str) -> tuple[str, str]:
    """(the title to show first, the original title when it adds something, else "").

    Russian readers see the Russian title; English readers the English one (`title_en`), or the
    original when it is written in Latin script, or the Russian title when the item has nothing
    else. The second line is the original title, only when it differs from the first: "Hotaru no
    haka" under "Grave of the Fireflies", "Тайна третьей планеты" under "The Mystery of the Third
    Planet" — never the Russian translation of an English work under its English title.
    """
    # A track's title is its original (there is no Russian one to translate from).
    original = (item.original_title or (item.title if item.kind == Kind.TRACK else "")).strip()
    if language == "en":
        english = (getattr(item, "title_en", "") or "").strip()
        if not english and original and not _CYRILLIC.search(original):
            english = original
        title = english or item.title
    else:
        title = item.title
    other = original if original.lower() != title.strip().lower() else ""
    return title, other


def item_length(item: ContentItem, language: str, *, reading_time: bool = True) -> str:
    """How long the item takes: runtime, track duration, or pages (and reading time, unless told not to)."""
    if item.kind == Kind.TRACK and item.duration_seconds:
        minutes, seconds = divmod(item.duration_seconds, 60)
        return f"{minutes}:{seconds:02d}"
    if item.kind == Kind.BOOK:
        parts = [t(language, "pages", n=item.pages)] if item.pages else []
        minutes = reading_minutes(pages=item.pages, length_minutes=item.length_minutes)
        if minutes and reading_time:
            parts.append(t(language, "reading_time", time=duration(language, minutes)))
        return " · ".join(parts)
    return duration(language, item.length_minutes) if item.length_minutes else ""


def offer_price(offer: OfferPick, language: str) -> str:
    price = money(language, Decimal(offer.price), offer.currency)
    if offer.offer_type == OfferType.FREE or not offer.price:
        return t(language, "free")
    if offer.offer_type == OfferType.RENT:
        return t(language, "rent", price=price)
    if offer.offer_type == OfferType.SUBSCRIPTION:
        return t(language, "subscription", price=price)
    return price


def rating_label(language: str, key: str, *, chosen: bool) -> str:
    label = t(language, key)
    return "✅ " + label.split(" ", 1)[1] if chosen else label


def rating_row(prefix: str, item_id: int, language: str, chosen: int | None = None) -> list[InlineKeyboardButton]:
    """Like / Don't know / Dislike for one item; callback data `<prefix>:<item id>:<value>`."""
    return [InlineKeyboardButton(rating_label(language, key, chosen=value == chosen),
                                 callback_data=f"{prefix}:{item_id}:{value}")
            for value, key in RATINGS]


def save_row(prefix: str, item_id: int, language: str, *, saved: bool,
             recommendation: str = "") -> list[InlineKeyboardButton]:
    """🔖 Save (or "Saved ✓", which removes it again); callback data `<prefix>:<item id>[:<recommendation hex>]`."""
    data = f"{prefix}:{item_id}" + (f":{recommendation}" if recommendation else "")
    return [InlineKeyboardButton(t(language, "saved_mark" if saved else "save"), callback_data=data)]


def mark_saved(markup: InlineKeyboardMarkup | None, *, prefix: str, item_id: int, saved: bool,
               language: str) -> InlineKeyboardMarkup:
    """The pressed card's keyboard with its 🔖 button showing `saved`; the other buttons are kept."""
    label = t(language, "saved_mark" if saved else "save")
    rows = []
    for row in (markup.inline_keyboard if markup else ()):
        rows.append([InlineKeyboardButton(label, callback_data=button.callback_data)
                     if isinstance(button.callback_data, str)
                     and button.callback_data.split(":")[:2] == [prefix, str(item_id)] else button
                     for button in row])
    return InlineKeyboardMarkup(rows)


def shop_rows(offers: Iterable[OfferPick], language: str) -> list[list[InlineKeyboardButton]]:
    """One URL button per offer, pointing at the tracked /go/ link (never at the shop directly)."""
    return [[InlineKeyboardButton(t(language, "shop_button", shop=cut(offer.partner_name, 30),
                                    price=offer_price(offer, language)), url=offer.link)]
            for offer in list(offers)[:MAX_SHOP_BUTTONS]]


def mark_rating(markup: InlineKeyboardMarkup | None, *, prefix: str, item_id: int, value: int,
                language: str) -> InlineKeyboardMarkup:
    """The pressed card's keyboard with `value` marked as chosen; its other buttons are kept as they are."""
    keys = dict(RATINGS)
    rows = []
    for row in (markup.inline_keyboard if markup else ()):
        new_row = []
        for button in row:
            parts = (button.callback_data or "").split(":") if isinstance(button.callback_data, str) else []
            if len(parts) == 3 and parts[0] == prefix and parts[1] == str(item_id) and parts[2].lstrip("-").isdigit() \
                    and int(parts[2]) in keys:
                button = InlineKeyboardButton(rating_label(language, keys[int(parts[2])], chosen=int(parts[2]) == value),
                                              callback_data=button.callback_data)
            new_row.append(button)
        rows.append(new_row)
    if not any(button.callback_data == f"{prefix}:{item_id}:{value}" for row in rows for button in row):
        rows.insert(0, rating_row(prefix, item_id, language, chosen=value))
    return InlineKeyboardMarkup(rows)
