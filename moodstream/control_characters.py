"""The control characters that input must not carry, in one place for every entry point.

Feed rows, API fields and Telegram updates all meet the same problem: PostgreSQL refuses a NUL in
text, and no other C0 control character means anything in a title, a SKU or a name. Tab, newline
and carriage return are ordinary text. JSON adds one more: a lone UTF-16 surrogate ("\\ud800"),
which is no character and cannot be encoded as UTF-8 at all.
"""

import re

_C0 = r"\x00-\x08\x0b\x0c\x0e-\x1f"  # the C0 control characters but tab, newline and carriage return
_SURROGATES = r"\ud800-\udfff"

# Refused where input is checked: a feed row is rejected, an API field answered 400.
CONTROL_CHARACTERS = re.compile(f"[{_C0}]")
# A lone UTF-16 surrogate: valid in a JSON string ("\\ud800"), yet not a character, so it cannot be
# encoded as UTF-8 for the database. Refused where control characters are.
LONE_SURROGATES = re.compile(f"[{_SURROGATES}]")
# What a stored text value must not hold: both of the above. A feed row or an API body holding either
# is refused, naming the field.
UNSTORABLE_CHARACTERS = re.compile(f"[{_C0}{_SURROGATES}]")
# Taken out where text is kept as it comes (descriptions, Telegram updates): the same, and DEL
# (neither the database nor Telegram takes a lone surrogate).
STRIPPED_CHARACTERS = re.compile(f"[{_C0}\\x7f{_SURROGATES}]")


def is_lone_surrogate(char: str) -> bool:
    """Whether a character UNSTORABLE_CHARACTERS found is a lone surrogate (else a control character)."""
    return LONE_SURROGATES.fullmatch(char) is not None
