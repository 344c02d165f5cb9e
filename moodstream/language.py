"""One language per person in the admin and on the pages: the user's choice, else Accept-Language.

An admin user picks English or Russian with the switch in the admin header; the choice is
stored on the user (users.AdminPreference) and cached in the session, so it costs one query
per session, not per page. Until a choice is made the browser's Accept-Language (or the
language cookie the switch sets for people not signed in) decides.

Machine endpoints — the REST API, tracked redirects, postbacks, the Telegram webhook,
health checks — are left alone: the API answers in the request's own Accept-Language by its
own rule, and a person's admin choice must never change what a client program receives.
"""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from users.services import admin_language_set

SESSION_KEY = "admin_language"
MACHINE_PREFIXES = ("/api/", "/go/", "/postback/", "/telegram/", "/healthz", "/readyz")
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def _chosen_language(request) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if SESSION_KEY not in request.session:
        from users.models import AdminPreference

        request.session[SESSION_KEY] = (
            AdminPreference.objects.filter(user_id=user.pk).values_list("language", flat=True).first() or ""
        )
    return request.session[SESSION_KEY] or None


class PersonLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(MACHINE_PREFIXES):
            return self.get_response(request)
        language = _chosen_language(request) or translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        try:
            response = self.get_response(request)
        finally:
            # Leave no language behind for the next request this thread serves (an API call).
            translation.deactivate()
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response


@require_POST
def set_language(request):
    """The header switch: remember the choice on the user (and in a cookie for the login page)."""
    language = request.POST.get("language", "")
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    if language not in LANGUAGE_CODES:
        return response
    if request.user.is_authenticated:
        admin_language_set(user=request.user, language=language)
        request.session[SESSION_KEY] = language
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax",
                        secure=request.is_secure(), httponly=True)
    return response
