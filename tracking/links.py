"""Tracked offer links: `/go/<token>` where the token names a recommendation and an offer.

The token is signed with SECRET_KEY, so it cannot be guessed or altered: changing the offer
or the recommendation part invalidates the signature.
"""

import functools
import uuid
from typing import NamedTuple

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, reverse

_SIGNER = signing.Signer(salt="moodstream.tracking.offer-link", sep=".")


class LinkTarget(NamedTuple):
    recommendation_id: uuid.UUID
    offer_id: int


def offer_link_token(*, recommendation_id: uuid.UUID, offer_id: int) -> str:
    return _SIGNER.sign(f"{recommendation_id.hex}.{int(offer_id):x}")


def read_offer_link_token(token: str) -> LinkTarget | None:
    """The link's target, or None when the token is malformed or its signature is wrong."""
    try:
        value = _SIGNER.unsign(token)
        rec_hex, offer_hex = value.split(".")
        return LinkTarget(recommendation_id=uuid.UUID(hex=rec_hex), offer_id=int(offer_hex, 16))
    except (signing.BadSignature, ValueError):
        return None


def offer_link(*, recommendation_id: uuid.UUID, offer_id: int) -> str:
    """The absolute tracked URL shown on a card's shop button."""
    token = offer_link_token(recommendation_id=recommendation_id, offer_id=offer_id)
    return _go_prefix(settings.PUBLIC_BASE_URL, get_script_prefix()) + token


@functools.lru_cache(maxsize=8)
def _go_prefix(public_base_url: str, script_prefix: str) -> str:
    # A request shows a card per offer (up to ~70 with a long playlist): resolve the URL once,
    # not per link. The token is URL-safe (base64 and "."), so it is appended as it is.
    placeholder = "0"
    return public_base_url + reverse("tracking:go", args=[placeholder])[: -len(placeholder)]
