"""What a trusted reverse proxy in front of gunicorn tells us (settings.TRUSTED_PROXY).

Only when TRUSTED_PROXY is on are X-Forwarded-Proto (HTTPS) and X-Forwarded-For (the client's
address) believed; without a proxy a client could set them to anything.
"""

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address: the one the trusted proxy appended to X-Forwarded-For, else the peer's.

    The right-most entry is the one our proxy wrote; anything to its left came from the client.
    Used by django-axes (AXES_CLIENT_IP_CALLABLE) to count failed logins per client.
    """
    if settings.TRUSTED_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR")
