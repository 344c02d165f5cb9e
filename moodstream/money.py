"""Money as people read it: the amount formatted for the active language, with its currency."""

from decimal import Decimal

from django.utils import formats, translation

SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "GBP": "£"}


def money(amount: Decimal | int | float | None, currency: str) -> str:
    """"1,234.50 ₽" in English, "1 234,50 ₽" in Russian; "—" when there is no amount."""
    if amount is None:
        return "—"
    number = formats.number_format(Decimal(amount), 2, use_l10n=True, force_grouping=True)
    if translation.get_language() == "ru":
        number = number.replace("\xa0", " ").replace(" ", "\u202f")  # a thin space keeps "1 234,50" on one line
    return f"{number}\u00a0{SYMBOLS.get(currency, currency)}"
