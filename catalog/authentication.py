"""Partner API authentication: `Authorization: Bearer <partner token>`."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

from moodstream.tokens import PREFIX_LENGTH, secret_matches

from .models import Partner


class PartnerTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates a partner shop by its API token; `request.auth` is the Partner."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _sep, token = header.partition(" ")
        # (A control character, NUL above all, would break the database look-up: no token has one.)
        if keyword != self.keyword or not token.strip() or not token.strip().isprintable():
            raise exceptions.AuthenticationFailed(_("Use the header 'Authorization: Bearer <partner token>'."))
        token = token.strip()
        partner = (
            Partner.objects.filter(api_token_prefix=token[:PREFIX_LENGTH], is_active=True).first()
            if len(token) > PREFIX_LENGTH
            else None
        )
        if partner is None or not secret_matches(token, partner.api_token_hash):
            raise exceptions.AuthenticationFailed(_("Invalid partner token."))
        return (None, partner)

    def authenticate_header(self, request):
        return self.keyword


class IsPartner(permissions.BasePermission):
    message = _("A partner token is required: 'Authorization: Bearer <partner token>'.")

    def has_permission(self, request, view):
        return isinstance(request.auth, Partner)
