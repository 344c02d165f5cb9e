"""REST endpoints: partners' conversions and statistics, and the staff KPI export."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import authentication, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.authentication import IsPartner, PartnerTokenAuthentication
from users.authentication import ApiKeyAuthentication

from .models import Conversion
from .params import InvalidParameter, date_range_from_params
from .selectors import ZERO, kpi_report, partner_daily_stats
from .serializers import (ConversionReportSerializer, ConversionSerializer, ConversionStatusSerializer,
                          RefusalSerializer, conversion_data)
from .services import ConversionRefused, conversion_set_status
from .views import conversion_answer

DATE_RANGE_PARAMETERS = [
    OpenApiParameter("from", str, description="First day, YYYY-MM-DD (default: 29 days before `to`)."),
    OpenApiParameter("to", str, description="Last day, YYYY-MM-DD, inclusive (default: today)."),
]


def money(value) -> str:
    """Money leaves as a string ("82.00"): a JSON float would lose cents."""
    return str(value.quantize(ZERO))


def _invalid(error: InvalidParameter) -> Response:
    return Response({"code": "invalid_parameter", "detail": error.detail, "field": error.field},
                    status=status.HTTP_400_BAD_REQUEST)


class PartnerAPIView(APIView):
    authentication_classes = [PartnerTokenAuthentication]
    permission_classes = [IsPartner]


class ConversionCreateView(PartnerAPIView):
    @extend_schema(request=ConversionReportSerializer, responses={201: ConversionSerializer, 200: ConversionSerializer,
                                                                  400: RefusalSerializer, 409: RefusalSerializer,
                                                                  503: RefusalSerializer})
    def post(self, request):
        """Report an action on a click. 201 when created; 200 with the existing conversion on a replay of event_id;
        409 for a second registration or subscription on one click (a click brings one of each); 503 `retry` in
        the rare race where the sign-up it met was rejected meanwhile (nothing stored: send it again)."""
        partner = request.auth
        if not isinstance(request.data, dict):
            return Response({"code": "invalid_body", "detail": gettext("Send a JSON object."), "field": None}, status=400)
        body, answer_status = conversion_answer(partner=partner, data=request.data)
        return Response(body, status=answer_status)


class ConversionStatusView(PartnerAPIView):
    @extend_schema(request=ConversionStatusSerializer, responses={200: ConversionSerializer, 400: RefusalSerializer,
                                                                  409: RefusalSerializer})
    def patch(self, request, pk: int):
        """Approve or reject (with a reason) one of your pending conversions."""
        conversion = get_object_or_404(Conversion.objects.only("id"), pk=pk, partner=request.auth)
        body = ConversionStatusSerializer(data=request.data)
        if not body.is_valid():
            field, messages = next(iter(body.errors.items()))
            return Response({"code": "invalid_field", "detail": f"{field}: {' '.join(map(str, messages))}",
                             "field": field}, status=400)
        try:
            conversion = conversion_set_status(conversion=conversion, status=body.validated_data["status"],
                                               reason=body.validated_data.get("reason", ""))
        except ConversionRefused as refused:
            return Response(refused.as_dict(), status=refused.status)
        return Response(conversion_data(conversion))


class PartnerStatsView(PartnerAPIView):
    @extend_schema(parameters=DATE_RANGE_PARAMETERS, responses={200: dict})
    def get(self, request):
        """Your clicks, conversions and payouts by day (days in the service's time zone)."""
        partner = request.auth
        try:
            period = date_range_from_params(request.query_params)
        except InvalidParameter as error:
            return _invalid(error)
        days = partner_daily_stats(partner=partner, date_from=period.date_from, date_to=period.date_to)
        return Response({
            "partner": partner.code,
            "from": period.date_from,
            "to": period.date_to,
            "payout_currency": partner.payout_currency,
            "days": [
                {"date": d.day, "clicks": d.clicks, "conversions": d.conversions, "approved": d.approved,
                 "pending": d.pending, "rejected": d.rejected, "click_payout": money(d.click_payout),
                 "approved_payout": money(d.approved_payout), "pending_payout": money(d.pending_payout),
                 "payout": money(d.payout)}
                for d in days
            ],
            "totals": {
                "clicks": sum(d.clicks for d in days),
                "conversions": sum(d.conversion_count for d in days),
                "approved": sum(d.approved for d in days),
                "pending": sum(d.pending for d in days),
                "rejected": sum(d.rejected for d in days),
                "payout": money(sum((d.payout for d in days), ZERO)),
                "pending_payout": money(sum((d.pending_payout for d in days), ZERO)),
                # Owed in another currency: billed before the partner's payout currency changed.
                "other_currencies": {currency: money(sum((d.other_currencies.get(currency, ZERO) for d in days), ZERO))
                                     for currency in sorted({c for d in days for c in d.other_currencies})},
            },
        })


class IsMoodStreamStaff(permissions.BasePermission):
    """MoodStream's own staff with the KPI view permission; never a partner's staff."""

    message = gettext_lazy("Only MoodStream staff with the KPI permission may read the KPI (HTTP Basic or an admin "
                           "session); API keys and partner tokens do not grant it.")

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user and user.is_authenticated and user.is_active and user.is_staff and not user.is_partner_staff
            and user.has_perm("tracking.view_dailykpi")
        )


class _OnlyForOwnKeyword:
    """An authenticator that stays silent for other schemes' headers, so several can sit on one view."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if header.partition(" ")[0] != self.keyword:
            return None
        return super().authenticate(request)


class _ApiKeyRecognised(_OnlyForOwnKeyword, ApiKeyAuthentication):
    pass


class _PartnerTokenRecognised(_OnlyForOwnKeyword, PartnerTokenAuthentication):
    pass


class KpiView(APIView):
    # Session for staff already logged into the admin; HTTP Basic (over HTTPS) for scripts. A valid
    # API key or partner token is recognised only to answer 403 "not allowed" instead of 401 "who are
    # you?": the client did authenticate, it just may not read the KPI.
    authentication_classes = [authentication.SessionAuthentication, authentication.BasicAuthentication,
                              _ApiKeyRecognised, _PartnerTokenRecognised]
    permission_classes = [IsMoodStreamStaff]

    @extend_schema(
        auth=[{"basicAuth": []}, {"cookieAuth": []}],
        parameters=DATE_RANGE_PARAMETERS + [
            OpenApiParameter("a", str, description="Variant to compare from, as '<experiment id>:<variant>'."),
            OpenApiParameter("b", str, description="Variant to compare to."),
        ],
        responses={200: dict},
    )
    def get(self, request):
        """KPI per day and experiment variant, totals per variant, and the b − a difference in actions per user."""
        try:
            period = date_range_from_params(request.query_params)
        except InvalidParameter as error:
            return _invalid(error)
        report = kpi_report(date_from=period.date_from, date_to=period.date_to)
        return Response(kpi_as_json(report, request.query_params.get("a"), request.query_params.get("b")))


def _counts(counts) -> dict:
    return {
        "active_users": counts.active_users, "requests": counts.requests, "clicks": counts.clicks,
        "conversions": {"registration": counts.registrations, "subscription": counts.subscriptions,
                        "purchase": counts.purchases},
        "actions_per_user": counts.actions_per_user, "conversions_per_user": counts.conversions_per_user,
        "payouts": money(counts.payouts),
    }


def _interval(interval) -> dict | None:
    if interval is None:
        return None
    return {"mean_a": interval.mean_a, "mean_b": interval.mean_b, "difference": interval.difference,
            "ci95": [interval.low, interval.high], "users_a": interval.n_a, "users_b": interval.n_b,
            "significant": interval.excludes_zero, "method": "Welch t interval over per-user totals"}


def kpi_as_json(report, a: str | None, b: str | None) -> dict:
    if not (a and b):
        a, b = report.default_pair() or (None, None)
    comparison = report.compare(a, b) if a and b else None
    return {
        "from": report.date_from,
        "to": report.date_to,
        "refreshed_at": report.refreshed_at,
        "rows": [{"date": row.day, "variant": row.key.param, "label": row.key.label, **_counts(row)}
                 for row in report.rows],
        "variants": [{"variant": v.key.param, "label": v.key.label, **_counts(v)} for v in report.variants],
        "comparison": comparison and {
            "a": comparison.a.key.param, "b": comparison.b.key.param,
            "actions_per_user": _interval(comparison.actions),
            "conversions_per_user": _interval(comparison.conversions),
        },
    }
