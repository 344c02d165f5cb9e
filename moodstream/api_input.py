"""Hostile input at the REST API's door: control characters, numbers out of range, the answer's language.

One mechanism for every operation, not a check per view:

- `CleanJSONParser` (the API's default parser) walks a parsed JSON body and refuses a string or
  key holding a C0 control character other than tab, newline and carriage return — NUL first of
  all, which PostgreSQL cannot store and which would otherwise surface as a 500 — or a lone
  surrogate (`"\\ud800"`), with a 400 naming the field by its dotted path (`genres.film.0`).
  `CleanMultiPartParser` / `CleanFormParser` do the same for form fields (the feed push's; files
  are the feed importer's to judge).
- `ApiRequestMiddleware` does the same for the query string of every request under /api/, and
  activates the language the client asks for there (`Accept-Language`; English by default). The
  project's LANGUAGE_CODE is Russian, for the bot's users; the rest of the site is left alone.
- `BIGINT_MIN` / `BIGINT_MAX` bound integer inputs before they reach a bigint column
  (recommender.serializers' integer fields default to them).
"""

from django.conf import settings
from django.http import JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.utils.translation.trans_real import parse_accept_lang_header
from rest_framework import exceptions
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from .api_errors import API_PREFIX, error_body, not_found
from .control_characters import CONTROL_CHARACTERS, UNSTORABLE_CHARACTERS, is_lone_surrogate

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
API_DEFAULT_LANGUAGE = "en"

CONTROL_CHARACTERS_CODE = "control_characters"
LONE_SURROGATE_CODE = "lone_surrogate"


def control_characters_message(field: str) -> str:
    return gettext("%(field)s contains a control character (such as NUL); only tab and newline are allowed.") % {
        "field": field}


def lone_surrogate_message(field: str) -> str:
    return gettext("%(field)s contains a lone UTF-16 surrogate (\\ud800–\\udfff), which is not a character.") % {
        "field": field}


def unstorable_field(data, path: str = "") -> tuple[str, str] | None:
    """The dotted path of the first string (value or key) in `data` holding a control character or a lone
    surrogate, and that character; None when there is none."""
    if isinstance(data, str):
        found = UNSTORABLE_CHARACTERS.search(data)
        return (path or "body", found.group()) if found else None
    if isinstance(data, dict):
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (found := UNSTORABLE_CHARACTERS.search(key)):
                return sub, found.group()
            if (found_in := unstorable_field(value, sub)) is not None:
                return found_in
        return None
    if isinstance(data, list):
        for index, value in enumerate(data):
            if (found_in := unstorable_field(value, f"{path}.{index}" if path else str(index))) is not None:
                return found_in
    return None


class CleanJSONParser(JSONParser):
    """JSON, refused with a 400 naming the field when a string in it holds a control character or a lone
    surrogate (JSON's "\\ud800" escape decodes to one; it cannot be encoded for the database)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if (found := unstorable_field(data)) is not None:
            field, char = found
            message, code = ((lone_surrogate_message, LONE_SURROGATE_CODE) if is_lone_surrogate(char)
                             else (control_characters_message, CONTROL_CHARACTERS_CODE))
            raise exceptions.ValidationError({field: [exceptions.ErrorDetail(message(field), code)]})
        return data


def _refuse_control_characters_in_form(data) -> None:
    for name, values in data.lists():
        if CONTROL_CHARACTERS.search(name) or any(CONTROL_CHARACTERS.search(value) for value in values):
            raise exceptions.ValidationError(
                {name: [exceptions.ErrorDetail(control_characters_message(name), CONTROL_CHARACTERS_CODE)]})


class CleanMultiPartParser(MultiPartParser):
    """multipart/form-data whose text fields (not its files) are refused with control characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        _refuse_control_characters_in_form(parsed.data)
        return parsed


class CleanFormParser(FormParser):
    """application/x-www-form-urlencoded, refused with control characters like the JSON body."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _refuse_control_characters_in_form(data)
        return data


def api_language(request) -> str:
    """The answer's language for a machine client: the first supported one of Accept-Language, else English."""
    supported = {code for code, _name in settings.LANGUAGES}
    for accepted, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if accepted == "*":
            break
        try:
            language = translation.get_supported_language_variant(accepted)
        except LookupError:
            continue
        if language in supported:
            return language
    return API_DEFAULT_LANGUAGE


class ApiRequestMiddleware:
    """Under /api/: the client's language for the answer, no control characters in the query string, and a
    missing page answered with the API's JSON error body (Django's 404 page is HTML, and under DEBUG its
    technical page ignores handler404)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        language = api_language(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self._refuse_control_characters(request) or self.get_response(request)
            if response.status_code == 404 and not response.get("Content-Type", "").startswith("application/json"):
                response = not_found()
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Accept-Language",))
        return response

    @staticmethod
    def _refuse_control_characters(request):
        for name, values in request.GET.lists():
            if CONTROL_CHARACTERS.search(name) or any(CONTROL_CHARACTERS.search(value) for value in values):
                return JsonResponse(
                    error_body(CONTROL_CHARACTERS_CODE, control_characters_message(name), name), status=400)
        return None
