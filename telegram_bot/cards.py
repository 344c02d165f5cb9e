"""How one catalogue item is shown: the card's text and its Like / Don't know / Dislike and shop buttons.

Shared by the warm-up cards of registration and the search results.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from catalog.models import ContentItem, Kind, OfferType
from recommender.types import OfferPick, Reason

from .formatting import CAPTION_LIMIT, cut, esc, visible_length
from .texts import duration, money, t

KIND_ICONS = {Kind.FILM: "🎬", Kind.TRACK: "🎵", Kind.BOOK: "📚"}
# Rating values in button order, with their text keys.
RATINGS = ((1, "like"), (0, "unknown"), (-1, "dislike"))
MAX_SHOP_BUTTONS = 2


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
    facts = [", ".join(genre.name(language) for genre in list(item.genres.all())[:4])]
    facts.append(item_length(item, language))
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
    """(the title to show first, the other one or ""): English readers see the original title first."""
    title, original = item.title, item.original_title or ""
    if language == "en" and original:
        title, original = original, title
    return title, original if original.strip().lower() != title.strip().lower() else ""


def item_length(item: ContentItem, language: str) -> str:
    """How long the item takes: runtime, track duration, or pages and reading time."""
    if item.kind == Kind.TRACK and item.duration_seconds:
        minutes, seconds = divmod(item.duration_seconds, 60)
        return f"{minutes}:{seconds:02d}"
    if item.kind == Kind.BOOK:
        parts = [t(language, "pages", n=item.pages)] if item.pages else []
        minutes = item.length_minutes or (int(item.pages * settings.BOOK_MINUTES_PER_PAGE) if item.pages else 0)
        if minutes:
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
