"""Public tracking endpoints: the tracked redirect and the partners' server-to-server postback."""

from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from catalog.models import Partner
from moodstream.api_input import api_language
from moodstream.proxy import client_ip
from moodstream.tokens import secret_matches

from .billing import is_billable_request
from .links import read_offer_link_token
from .serializers import conversion_data
from .services import (ConversionRefused, LinkTargetMissing, OfferGone, click_record, conversion_record,
                       conversion_report_parse, postback_partner)


@never_cache
@require_safe
def go(request, token: str):
    """Record the click and send the user to the offer's stored URL with the click id added.

    HEAD requests, link-preview crawlers and prefetches are redirected too but never billed.
    """
    target = read_offer_link_token(token)
    if target is None:
        raise Http404("Unknown link.")
    user_agent = request.headers.get("user-agent", "")
    try:
        result = click_record(
            target=target, user_agent=user_agent,
            # The connecting address, or the one a trusted proxy (settings.TRUSTED_PROXY) reports: a
            # client-supplied X-Forwarded-For is never believed, or anyone could bill at will.
            client_address=client_ip(request) or "",
            billable=is_billable_request(method=request.method, user_agent=user_agent, headers=request.headers))
    except LinkTargetMissing:
        raise Http404("Unknown link.") from None
    except OfferGone as gone:
        return render(request, "tracking/offer_gone.html", {"partner_name": gone.partner_name}, status=410)
    return HttpResponseRedirect(result.redirect_url)


@never_cache
@require_GET
def postback(request, partner_code: str):
    """`GET /postback/<partner code>?key=…&click_id=…&event=…&event_id=…&amount=…`, as CPA networks call it."""
    # Answered in the language the caller asks for, English by default, as the API answers.
    with translation.override(api_language(request)):
        return _postback(request, partner_code)


def _postback(request, partner_code: str):
    partner = postback_partner(code=partner_code)
    if partner is None:
        return JsonResponse({"code": "unknown_partner", "detail": gettext("No partner has this code."), "field": None},
                            status=404)
    if not partner.is_active or not secret_matches(request.GET.get("key", ""), partner.postback_key_hash):
        return JsonResponse({"code": "wrong_key", "detail": gettext("The postback key is missing or wrong."), "field": "key"},
                            status=403)
    body, status = conversion_answer(partner=partner, data=request.GET)
    return JsonResponse(body, status=status)


def conversion_answer(*, partner: Partner, data) -> tuple[dict, int]:
    """Record a partner's report (postback query or REST body) and say what to answer: the same rules for both."""
    try:
        report = conversion_report_parse(data=data, partner=partner)
        conversion, created = conversion_record(partner=partner, report=report)
    except ConversionRefused as refused:
        return refused.as_dict(), refused.status
    return conversion_data(conversion), 201 if created else 200
