"""The "Connect your shop" test conversion: a test click, then a real postback through the endpoint.

The postback is dispatched in-process to the view the partner's server calls (`/postback/<code>`,
resolved from the URL conf), with the key the person typed: the key check, the parsing, the
attribution and the idempotency rules are exactly the ones a real postback meets. The click is
marked `is_test` (and not billable), so its conversion is a test one too: both cost nothing and stay out of
KPI, partner statistics and statements.
"""

import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.urls import resolve, reverse
from django.utils.translation import gettext as _

from catalog.models import Partner

from .models import Click, Conversion
from .services import _new_click_id

TEST_USER_AGENT = "MoodStream connect-your-shop test"


class TestConversionError(Exception):
    """The test could not start (e.g. the partner has no offer to click)."""


@dataclass(frozen=True)
class TestConversionResult:
    status: int
    answer: dict
    conversion: Conversion | None
    click_id: str
    postback_url: str  # as sent, with the key masked

    @property
    def answer_json(self) -> str:
        return json.dumps(self.answer, indent=2, ensure_ascii=False)


def postback_url_template(*, partner: Partner, key: str = "") -> str:
    """The postback URL a partner configures, with its code, its key (or a placeholder) and the macros."""
    base = settings.PUBLIC_BASE_URL + reverse("tracking:postback", args=[partner.code])
    return (f"{base}?key={key or '<postback key>'}&click_id={{click_id}}&event={{event}}&event_id={{event_id}}"
            f"&amount={{amount}}&currency={{currency}}")


def connect_test_click(*, partner: Partner) -> Click:
    offer = (partner.offers.filter(available=True).order_by("pk").first()
             or partner.offers.order_by("pk").first())
    if offer is None:
        raise TestConversionError(_("This shop has no offers yet: import a feed first, then send a test."))
    return Click.objects.create(click_id=_new_click_id(), offer=offer, partner=partner, payout=Decimal("0.00"),
                                payout_currency=partner.payout_currency,
                                is_test=True, billable=False, user_agent=TEST_USER_AGENT)


def connect_test_conversion(*, partner: Partner, key: str, event: str = Conversion.Event.PURCHASE,
                         amount: Decimal = Decimal("100.00")) -> TestConversionResult:
    """Make a test click and report a conversion on it through the postback endpoint; say what was recorded."""
    click = connect_test_click(partner=partner)
    query = {"key": key, "click_id": click.click_id, "event": event,
             "event_id": f"moodstream-test-{secrets.token_hex(6)}", "currency": partner.payout_currency}
    if event == Conversion.Event.PURCHASE:
        query["amount"] = f"{amount:.2f}"
    path = reverse("tracking:postback", args=[partner.code])
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    request.GET = QueryDict(urlencode(query))
    request.META = {"REQUEST_METHOD": "GET", "QUERY_STRING": urlencode(query), "SERVER_NAME": "moodstream.internal",
                    "SERVER_PORT": "80", "HTTP_USER_AGENT": TEST_USER_AGENT}
    match = resolve(path)
    response = match.func(request, *match.args, **match.kwargs)
    answer = json.loads(response.content)
    conversion = Conversion.objects.filter(click=click).first()
    if conversion is None:
        click.delete()  # a refused test (e.g. a wrong key) leaves nothing behind
    masked = settings.PUBLIC_BASE_URL + path + "?key=" + ("••••" if key else "") + "&" + urlencode(
        {name: value for name, value in query.items() if name != "key"})
    return TestConversionResult(status=response.status_code, answer=answer, conversion=conversion,
                                click_id=click.click_id, postback_url=masked)
