"""What makes a click on a tracked link billable, and who "the same person" is.

Partners pay per click (DESIGN §7), so a click is billed once per (offer, person) within
settings.CLICK_DEDUP_SECONDS, whichever of the person's links it comes through, and machines that
fetch a link without a person behind it — link-preview crawlers of messengers and social networks,
browser prefetches, HEAD requests — are redirected like anyone else but never billed (their click
is recorded with billable=False, so a conversion that still follows one is attributed; it costs the
partner nothing).

The person is the bot user (profile) when the recommendation has one; for an anonymous link
(a recommendation made through the API without telegram_id) it is the client's network: its IPv4
address, or the /64 prefix of its IPv6 address. The user agent is deliberately not part of it: a
client can send a new one with every request for free, and so could bill a link as often as it
liked; a /64 is what one IPv6 subscriber is given, and its lower bits rotate at will. Nothing of
the address is stored: the de-duplication key is an HMAC (keyed by SECRET_KEY) of the offer and the
person, good only for recognising a repeat.
"""

import ipaddress
import re
from collections.abc import Mapping

from django.utils.crypto import salted_hmac

from moodstream.proxy import parse_ip

# Link-preview crawlers and fetchers, matched in the User-Agent (case-insensitive):
# Telegram, WhatsApp, Slack, Discord, Facebook / Messenger / Instagram, X (Twitterbot), LinkedIn,
# Skype, VK, embed services; then any self-declared bot, crawler,
# spider, preview or prefetch agent. "bot" is matched at a word's end ("Googlebot/2.1",
# "TelegramBot (like TwitterBot)", "Slackbot-LinkExpanding") except in the phone brand "Cubot".
_PREVIEW_AGENTS = re.compile(
    r"telegrambot|whatsapp|slackbot|slack-imgproxy|discordbot|facebookexternalhit|facebot|facebookcatalog"
    r"|twitterbot|linkedinbot|skypeuripreview|vkshare|embedly|iframely"
    r"|(?<!cu)bot\b|crawl|spider|preview|prefetch|headlesschrome",
    re.IGNORECASE,
)
# Browsers say a request is a prefetch (not a navigation) in one of these headers.
_PURPOSE_HEADERS = ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")
_PREFETCH = re.compile(r"prefetch|preview|prerender", re.IGNORECASE)

_DEDUP_SALT = "moodstream.tracking.click-dedup"


def is_billable_request(*, method: str, user_agent: str, headers: Mapping[str, str]) -> bool:
    """False for a HEAD request, a link-preview crawler or a prefetch: those are redirected but never billed."""
    if method != "GET":
        return False
    if user_agent and _PREVIEW_AGENTS.search(user_agent):
        return False
    return not any(_PREFETCH.search(headers.get(name) or "") for name in _PURPOSE_HEADERS)


def client_network(address: str) -> str:
    """The part of a client address that names one subscriber: an IPv4 address, an IPv6 /64 prefix."""
    ip = parse_ip(address.strip())
    if ip is None:
        return address.strip()
    if ip.version == 4:  # an IPv4-mapped IPv6 address comes as its IPv4 one
        return str(ip)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def click_dedup_key(*, profile_id: int | None, offer_id: int, client_address: str) -> str:
    """32 hex digits naming (offer, person): equal for repeats that must be billed once, unguessable otherwise.

    A known bot user is one person on one offer whichever card (recommendation) they tap; so is an
    anonymous client's network, whichever link it opens: links are minted by every API request (a
    partner site's widget makes one per page view), so keying on the link would let one reloading
    client bill the same offer as often as it liked.
    """
    if profile_id is not None:
        subject = f"profile:{profile_id}:offer:{offer_id}"
    else:
        subject = f"network:{client_network(client_address)}:offer:{offer_id}"
    return salted_hmac(_DEDUP_SALT, subject, algorithm="sha256").hexdigest()[:32]


def advisory_lock_id(dedup_key: str) -> int:
    """The PostgreSQL advisory lock (one signed bigint) that serialises clicks sharing a dedup key."""
    return int.from_bytes(bytes.fromhex(dedup_key[:16]), "big", signed=True)
