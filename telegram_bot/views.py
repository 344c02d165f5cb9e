"""The Telegram webhook: POST /telegram/webhook/."""

import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .dispatcher import InvalidUpdate, update_process

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Check the secret, handle the update once, answer 200 (even when the handler failed: it is logged)."""
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get(SECRET_HEADER, "")
    # Without a configured secret the webhook is closed: anyone could post updates otherwise.
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return JsonResponse({"ok": False, "error": "wrong or missing secret token"}, status=403)
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        logger.warning("Webhook: the body is not JSON (%d bytes)", len(request.body))
        return JsonResponse({"ok": False, "error": "the body is not JSON"}, status=400)
    try:
        outcome = update_process(payload=payload)
    except InvalidUpdate as exc:
        logger.warning("Webhook: %s", exc)
        return JsonResponse({"ok": False, "error": str(exc)}, status=400)
    return JsonResponse({"ok": True, "outcome": outcome})
