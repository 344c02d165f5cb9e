"""Telegram HTML helpers: escape catalogue text, cut it cleanly, keep messages within Telegram's limits.

Telegram counts a message's length after parsing the HTML (tags do not count, `&amp;` is one
character) in UTF-16 code units; captions may hold 1024 of them and messages 4096.
"""

import html
import re

CAPTION_LIMIT = 1024
MESSAGE_LIMIT = 4096
_TAG = re.compile(r"<[^>]*>")


def cut(text: str, limit: int) -> str:
    """`text` shortened to at most `limit` characters at a word boundary, with an ellipsis."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(" ,.;:-–—") + "…"


def esc(text: str, limit: int | None = None) -> str:
    """Catalogue or user text, made safe for Telegram HTML (and cut first when `limit` is given)."""
    return html.escape(cut(text, limit) if limit else " ".join(str(text or "").split()), quote=False)


def visible_length(markup: str) -> int:
    """How long Telegram considers a message written in our HTML (UTF-16 units of the visible text)."""
    return len(html.unescape(_TAG.sub("", markup)).encode("utf-16-le")) // 2


def join_within(lines: list[str], limit: int, *, separator: str = "\n") -> str:
    """Join HTML lines, leaving out the trailing ones that would not fit in `limit`."""
    kept: list[str] = []
    for line in lines:
        candidate = separator.join(kept + [line])
        if visible_length(candidate) > limit:
            break
        kept.append(line)
    return separator.join(kept)
