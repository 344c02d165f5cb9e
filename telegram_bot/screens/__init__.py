"""One module per screen of the bot (DESIGN §4). Importing this package registers their handlers."""

from . import about, main, registration, saved, search, settings  # noqa: F401
