"""Client applications' API keys: `Authorization: Api-Key <key>`.

A key is a random 256-bit secret issued by users.services.api_key_issue (the admin and
`manage.py create_api_key`); only its prefix (to find the row) and its SHA-256 are stored, so a
database leak reveals no usable key.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from moodstream.tokens import PREFIX_LENGTH, secret_matches

from .models import ApiKey

# last_used_at is refreshed at most this often, so a busy client costs one cheap UPDATE at most.
LAST_USED_RESOLUTION_SECONDS = 60


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates a client application; `request.auth` is its ApiKey."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _sep, secret = header.partition(" ")
        secret = secret.strip()
        # (A control character, NUL above all, would break the database look-up: no key has one.)
        if keyword != self.keyword or not secret or not secret.isprintable():
            raise exceptions.AuthenticationFailed(gettext("Use the header 'Authorization: Api-Key <key>'."))
        key = (
            ApiKey.objects.filter(prefix=secret[:PREFIX_LENGTH], is_active=True).first()
            if len(secret) > PREFIX_LENGTH
            else None
        )
        if key is None or not secret_matches(secret, key.key_hash):
            raise exceptions.AuthenticationFailed(
                gettext("Invalid or revoked API key (header 'Authorization: Api-Key <key>')."))
        now = timezone.now()
        stale = now - timedelta(seconds=LAST_USED_RESOLUTION_SECONDS)
        ApiKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=key.pk).update(
            last_used_at=now)
        return (None, key)

    def authenticate_header(self, request):
        return self.keyword


class HasApiKey(permissions.BasePermission):
    message = gettext_lazy(
        "An API key is required: 'Authorization: Api-Key <key>' (create one with `manage.py create_api_key NAME`).")

    def has_permission(self, request, view):
        return isinstance(request.auth, ApiKey)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents API-key auth in the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Api-Key <key>`; create a key with `manage.py create_api_key NAME`."}
