"""One error body for the whole REST API: `{"code", "detail", "field"}`, JSON, in the request's language.

DRF's exceptions (validation, authentication, permission, parse, media type, method, throttling)
pass through `api_exception_handler`; Django's own 404 for a path under /api/ becomes `not_found()` in
`moodstream.api_input.ApiRequestMiddleware` (under DEBUG too, where Django answers a missing page with
its technical page and no handler404), and its 500 passes through `server_error` (handler500), so a
client never meets an HTML page there. The schema documents the same body for every status an operation
can answer (`document_error_responses`, a drf-spectacular postprocessing hook).
"""

from django.http import JsonResponse
from django.utils.translation import gettext
from django.views import defaults
from rest_framework import exceptions

API_PREFIX = "/api/"


def error_body(code: str, detail: str, field: str | None = None) -> dict:
    return {"code": code, "detail": detail, "field": field}


def _flatten(detail, path: str = "") -> list[tuple[str | None, exceptions.ErrorDetail]]:
    """(dotted field path, message) pairs of a ValidationError's nested detail, in order."""
    if isinstance(detail, dict):
        pairs = []
        for key, value in detail.items():
            key = str(key)
            sub = path if key in ("non_field_errors", "__all__") else (f"{path}.{key}" if path else key)
            pairs.extend(_flatten(value, sub))
        return pairs
    if isinstance(detail, list):
        return [pair for value in detail for pair in _flatten(value, path)]
    return [(path or None, detail)]


def api_exception_handler(exc, context):
    """DRF's handler, with every error body reshaped into {code, detail, field}."""
    # Imported here: rest_framework.views reads the parser setting, which names moodstream.api_input,
    # which imports this module.
    from rest_framework.views import exception_handler

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        pairs = _flatten(exc.detail)
        field, message = pairs[0] if pairs else (None, exceptions.ErrorDetail(gettext("Invalid input."), "invalid"))
        body = error_body(getattr(message, "code", None) or "invalid", str(message), field)
        errors: dict[str, list[str]] = {}
        for path, text in pairs:
            errors.setdefault(path or "non_field_errors", []).append(str(text))
        body["errors"] = errors
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data.get("detail", "")
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        body = error_body(code, str(detail))
    response.data = body
    return response


def not_found() -> JsonResponse:
    """The answer to a path under /api/ that names nothing."""
    return JsonResponse(error_body("not_found", gettext("Not found.")), status=404)


def server_error(request):
    """handler500: JSON under /api/, Django's page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body("server_error", gettext("A server error occurred.")), status=500)
    return defaults.server_error(request)


# --- The schema ------------------------------------------------------------------------------

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_DESCRIPTIONS = {
    "400": "Invalid input: the field at fault is named in `field`.",
    "401": "No credentials, or wrong ones.",
    "403": "The credentials do not allow this.",
    "404": "No such object (or not yours).",
    "415": "Unsupported Content-Type.",
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation lists each error status it can answer.

    400 where the operation takes parameters or a body, 401 and 403 where it needs credentials,
    404 where its path names an object, 415 where it takes a body; each with the Error body.
    Statuses a view documents itself keep their own description, with the Error body.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "description": "Every error answer of the API.",
        "properties": {
            "code": {"type": "string", "description": "Stable, machine-readable, e.g. invalid, not_authenticated."},
            "detail": {"type": "string", "description": "What is wrong, in words (English, or Russian when asked)."},
            "field": {"type": "string", "nullable": True, "description": "The input field at fault (a dotted path), or null."},
            "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                       "description": "Validation errors only: every field at fault with its messages."},
        },
        "required": ["code", "detail", "field"],
    }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = operation.get("parameters", [])
            statuses = set()
            if parameters or "requestBody" in operation:
                statuses.add("400")
            if any(requirement for requirement in operation.get("security", [])):
                statuses.update({"401", "403"})
            if any(p.get("in") == "path" for p in parameters):
                statuses.add("404")
            if "requestBody" in operation:
                statuses.add("415")
            responses = operation["responses"]
            for code in sorted(statuses | {c for c in responses if c[0] in "45"}):
                response = responses.setdefault(code, {"description": _DESCRIPTIONS.get(code, "Error.")})
                response["content"] = {"application/json": {"schema": _ERROR_REF}}
    return result
