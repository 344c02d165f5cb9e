"""The control characters that input must not carry, in one place for every entry point.

Feed rows, API fields and Telegram updates all meet the same problem: PostgreSQL refuses a NUL in
text, and no other C0 control character means anything in a title, a SKU or a name. Tab, newline
and carriage return are ordinary text. JSON adds one more: a lone UTF-16 surrogate ("\\ud800"),
which is no character and cannot be encoded as UTF-8 at all.
"""

import re

# Refused where input is checked: a feed row is rejected, an API field answered 400.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Taken out where text is kept as it comes (descriptions, Telegram updates): the same, DEL, and lone
# surrogates (JSON can spell "\\ud800"; it is no character, and neither the database nor Telegram takes it).
STRIPPED_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# What a text value that is stored must not hold: the refused control characters and lone surrogates
# (a JSON feed's "\\ud800" decodes to one). A feed row holding either is rejected, naming the field.
UNSTORABLE_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# A lone UTF-16 surrogate: valid in a JSON string ("\\ud800"), yet not a character, so it cannot be
# encoded as UTF-8 for the database. Refused where control characters are.
LONE_SURROGATES = re.compile(r"[\ud800-\udfff]")
