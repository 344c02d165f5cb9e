"""What a trusted reverse proxy in front of gunicorn tells us (settings.TRUSTED_PROXY).

Only when TRUSTED_PROXY is on are X-Forwarded-Proto (HTTPS) and X-Forwarded-For (the client's
address) believed; without a proxy a client could set them to anything. X-Forwarded-For is believed
only from a peer in settings.TRUSTED_PROXY_NETWORKS, where the proxy connects from: a client that
reaches gunicorn directly, past the proxy, is counted by its own address whatever it sends.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address: the one the trusted proxy appended to X-Forwarded-For, else the peer's.

    The right-most entry is the one our proxy wrote; anything to its left came from the client, so
    it is never read (a chain of proxies is counted by the outer proxy's address: two people behind it
    count as one, an error on the partner's side of the bill). Used by click billing (an anonymous
    link's person) and by django-axes (AXES_CLIENT_IP_CALLABLE) to count failed logins per client.
    """
    peer = request.META.get("REMOTE_ADDR")
    if settings.TRUSTED_PROXY and _is_trusted_proxy(peer):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if parse_ip(last) is not None:
            return last
    return peer


def _is_trusted_proxy(peer: str | None) -> bool:
    address = parse_ip(peer or "")
    return address is not None and any(address in network for network in settings.TRUSTED_PROXY_NETWORKS)


def parse_ip(text: str):
    """The IP address `text` names (an IPv4-mapped IPv6 address as its IPv4 one), None when it names none."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address  # ::ffff:10.0.0.2 is 10.0.0.2
