"""Writes to the catalogue: items, offers and partner secrets."""

import re
import unicodedata

from django.db import transaction

from moodstream.tokens import issue_secret

from .models import Partner

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_title(title: str) -> str:
    """Lower-case, accent- and punctuation-free title used to match the same work across sources."""
    decomposed = unicodedata.normalize("NFKD", title or "")
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", without_accents.casefold().replace("ё", "е")).strip()


def partner_issue_api_token(*, partner: Partner) -> str:
    """Issue a new API token for a partner (replacing the old one); returns it once."""
    issued = issue_secret()
    with transaction.atomic():
        partner.api_token_prefix = issued.prefix
        partner.api_token_hash = issued.digest
        partner.save(update_fields=["api_token_prefix", "api_token_hash"])
    return issued.secret


def partner_issue_postback_key(*, partner: Partner) -> str:
    """Issue a new key for server-to-server postbacks; returns it once."""
    issued = issue_secret()
    partner.postback_key_hash = issued.digest
    partner.save(update_fields=["postback_key_hash"])
    return issued.secret
