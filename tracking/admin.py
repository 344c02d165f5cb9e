"""Admin for clicks and conversions, the KPI page and monthly statements.

Partner staff (see moodstream.admin_scope) see only their own partner's clicks, conversions,
statistics and statements, and nothing that names a user: no profiles, no Telegram ids.
"""

import csv
from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.models import Partner
from moodstream.admin_scope import PartnerScopedAdmin, is_partner_staff
from moodstream.money import money

from .models import Click, Conversion, DailyKpi, MonthlyStatement
from .params import InvalidParameter, date_range_from_params, month_from_param
from .selectors import EVENTS, kpi_report, partner_daily_stats, partner_statement
from .services import ConversionRefused, conversion_set_status, kpi_refresh_if_stale, kpi_refresh_recent

# A KPI page view refreshes rows older than this, if at most this many days need it (see kpi_refresh_if_stale).
KPI_PAGE_MAX_AGE = timedelta(minutes=5)
KPI_PAGE_MAX_DAYS = 14
# Payouts are summed over partners; MoodStream's rates are set in roubles.
KPI_CURRENCY = "RUB"

# Fields that lead to a person (profile → Telegram id) or to MoodStream's internals.
USER_FIELDS = ("profile", "profile_ref", "recommendation", "experiment", "variant")


class UserFreeScopedAdmin(PartnerScopedAdmin):
    """A scoped admin that never shows partner staff who clicked (nor MoodStream's experiment internals)."""

    partner_staff_hidden_fields = USER_FIELDS


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened: nobody adds, edits or deletes them in the admin."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Click)
class ClickAdmin(ReadOnlyAdmin, UserFreeScopedAdmin):
    list_display = ["click_id", "created_at", "partner", "offer", "billable", "payout", "variant", "profile_ref"]
    list_filter = ["partner", "billable", "variant"]
    search_fields = ["=click_id", "offer__sku", "=profile__telegram_id"]
    list_select_related = ["partner", "offer__partner"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ["click_id", "created_at", "partner", "offer", "billable", "payout", "user_agent", "profile_ref",
              "recommendation", "experiment", "variant"]
    readonly_fields = fields

    @admin.display(description=_("Profile"))
    def profile_ref(self, obj):
        if obj.profile_id is None:
            return "—"
        url = reverse("admin:users_profile_change", args=[obj.profile_id])
        return format_html('<a href="{}">{} {}</a>', url, gettext("Profile"), obj.profile_id)


@admin.register(Conversion)
class ConversionAdmin(UserFreeScopedAdmin):
    partner_staff_actions = frozenset({"view", "change"})
    list_display = ["event_id", "event", "partner", "click", "amount_display", "payout_display", "status",
                    "suspicious", "occurred_at", "created_at"]
    list_filter = ["status", "event", "suspicious", "partner"]
    search_fields = ["=event_id", "=click__click_id"]
    list_select_related = ["partner", "click"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    actions = ["approve_selected", "reject_selected"]
    fields = ["partner", "click", "event", "event_id", "amount", "currency", "payout", "payout_currency", "status",
              "status_reason", "suspicious", "occurred_at", "created_at", "updated_at"]
    # Status changes go through the actions, which apply the pending → approved / rejected rule.
    readonly_fields = fields

    def has_add_permission(self, request, *args):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("Amount"), ordering="amount")
    def amount_display(self, obj):
        return money(obj.amount, obj.currency)

    @admin.display(description=_("Payout"), ordering="payout")
    def payout_display(self, obj):
        return money(obj.payout, obj.payout_currency)

    @admin.action(description=_("Approve selected pending conversions"), permissions=["change"])
    def approve_selected(self, request, queryset):
        self._judge(request, queryset, Conversion.Status.APPROVED, "")

    @admin.action(description=_("Reject selected pending conversions…"), permissions=["change"])
    def reject_selected(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if "apply" in request.POST:
            if reason:
                self._judge(request, queryset, Conversion.Status.REJECTED, reason)
                return None
            messages.error(request, gettext("Give a reason for the rejection."))
        return TemplateResponse(request, "admin/tracking/reject_conversions.html", {
            **self.admin_site.each_context(request),
            "title": gettext("Reject conversions"),
            "opts": self.model._meta,
            "conversions": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "reason": reason,
        })

    def _judge(self, request, queryset, status: str, reason: str):
        done, refused = 0, []
        for conversion in queryset.select_related(None).only("id", "event_id"):
            try:
                conversion_set_status(conversion=conversion, status=status, reason=reason)
                done += 1
            except ConversionRefused as error:
                refused.append(f"{conversion.event_id}: {error.detail}")
        if done:
            messages.success(request, ngettext("%(n)d conversion %(status)s.", "%(n)d conversions %(status)s.", done)
                             % {"n": done, "status": Conversion.Status(status).label.lower()})
        if refused:
            messages.warning(request, gettext("Not changed — %(list)s") % {"list": "; ".join(refused[:20])})


def csv_cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (partners' text comes from outside)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return response


class ReportAdmin(ReadOnlyAdmin):
    """A model entry in the admin that is one read-only page; partner staff get their partner's version."""

    def has_module_permission(self, request):
        return is_partner_staff(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_partner_staff(request) or super().has_view_permission(request, obj)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [path("", self.admin_site.admin_view(self.page_view), name="%s_%s_changelist" % info)]

    def page_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self.render_page(request)

    def render_page(self, request):
        raise NotImplementedError

    def context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "has_view_permission": True, **extra}


def _fmt(value, digits=3):
    return "" if value is None else f"{value:.{digits}f}"


@admin.register(DailyKpi)
class KpiAdmin(ReportAdmin):
    def render_page(self, request):
        if request.method == "POST" and not is_partner_staff(request):
            days = kpi_refresh_recent()
            messages.success(request, ngettext("KPI refreshed: %(n)d day rebuilt.", "KPI refreshed: %(n)d days rebuilt.",
                                              len(days)) % {"n": len(days)})
            return HttpResponseRedirect(request.get_full_path())
        try:
            period = date_range_from_params(request.GET)
        except InvalidParameter as error:
            messages.error(request, error.detail)
            period = date_range_from_params({})
        if is_partner_staff(request):
            return self._partner_page(request, period)
        return self._staff_page(request, period)

    def _staff_page(self, request, period):
        # Without beat (`make run`) nothing else refreshes the rows: a page view does, within bounds.
        auto = kpi_refresh_if_stale(max_age=KPI_PAGE_MAX_AGE, max_days=KPI_PAGE_MAX_DAYS)
        if auto.deferred_days:
            messages.warning(request, ngettext(
                "%(n)d day has activity not in these figures yet: press “Refresh now”.",
                "%(n)d days have activity not in these figures yet: press “Refresh now”.",
                auto.deferred_days) % {"n": auto.deferred_days})
        if request.GET.get("format") == "csv":
            report = kpi_report(date_from=period.date_from, date_to=period.date_to, per_user=False)
            return csv_response(
                f"kpi-{period.date_from}-{period.date_to}.csv",
                ["date", "variant", "active_users", "requests", "clicks", *EVENTS, "conversions",
                 "actions_per_user", "conversions_per_user", "payouts"],
                ([r.day, r.key.label, r.active_users, r.requests, r.clicks, r.registrations, r.subscriptions,
                  r.purchases, r.conversions, _fmt(r.actions_per_user, 6), _fmt(r.conversions_per_user, 6), r.payouts]
                 for r in report.rows),
            )
        report = kpi_report(date_from=period.date_from, date_to=period.date_to)
        a, b = request.GET.get("a"), request.GET.get("b")
        if not (a and b):
            a, b = report.default_pair() or ("", "")
        days = sorted({r.day for r in report.rows})
        comparison = report.compare(a, b) if a and b else None
        chart = {
            "labels": [d.isoformat() for d in days],
            "yLabel": gettext("Actions per active user, 7-day average"),
            "datasets": [{"label": v.key.label, "data": _rolling_per_user(report.rows, v.key, days)}
                         for v in report.variants],
            "interval": _interval_chart(comparison),
        }
        return TemplateResponse(request, "admin/tracking/kpi.html", self.context(
            request, title=gettext("KPI by day and variant"), period=period, report=report, chart=chart,
            comparison=comparison, a=a, b=b, partner_view=False, currency=KPI_CURRENCY,
            csv_query=_with_format(request, "csv"),
        ))

    def _partner_page(self, request, period):
        partner = request.user.partner
        days = partner_daily_stats(partner=partner, date_from=period.date_from, date_to=period.date_to)
        if request.GET.get("format") == "csv":
            return csv_response(
                f"{partner.code}-stats-{period.date_from}-{period.date_to}.csv",
                ["date", "clicks", *EVENTS, "approved", "pending", "rejected", "payout", "pending_payout"],
                ([d.day, d.clicks, *(d.conversions[e] for e in EVENTS), d.approved, d.pending, d.rejected, d.payout,
                  d.pending_payout] for d in days),
            )
        chart = {
            "labels": [d.day.isoformat() for d in days],
            "yLabel": gettext("Count per day"),
            "datasets": [{"label": gettext("Clicks"), "data": [d.clicks for d in days]},
                         {"label": gettext("Conversions"), "data": [d.conversion_count for d in days]}],
        }
        return TemplateResponse(request, "admin/tracking/kpi.html", self.context(
            request, title=gettext("Statistics of %(name)s") % {"name": partner.name}, period=period, days=days, chart=chart,
            partner=partner, partner_view=True, events=EVENTS, csv_query=_with_format(request, "csv"),
        ))


def _rolling_per_user(rows, key, days, window: int = 7) -> list[float | None]:
    """Actions per active user over the `window` days up to each day: one day's few users make a jagged line.

    (Users active on several days of the window count once per day, like the daily figure.)
    """
    daily = {r.day: (r.actions, r.active_users) for r in rows if r.key == key}
    values = []
    for day in days:
        in_window = [daily[d] for d in (day - timedelta(days=n) for n in range(window)) if d in daily]
        users = sum(u for _a, u in in_window)
        values.append(round(sum(a for a, _u in in_window) / users, 4) if users else None)
    return values


def _interval_chart(comparison) -> dict | None:
    """The comparison drawn as bars: each variant's mean actions per user, and the difference with its 95% CI."""
    ci = comparison.actions if comparison else None
    if ci is None:
        return None
    return {
        "title": gettext("Actions per user: %(b)s vs %(a)s") % {"a": comparison.a.key.label, "b": comparison.b.key.label},
        "means": [{"label": comparison.a.key.label, "value": ci.mean_a},
                  {"label": comparison.b.key.label, "value": ci.mean_b}],
        "difference": {"label": gettext("Difference (95% CI)"), "value": ci.difference, "low": ci.low, "high": ci.high},
    }


def _with_format(request, fmt: str) -> str:
    query = request.GET.copy()
    query["format"] = fmt
    return query.urlencode()


@admin.register(MonthlyStatement)
class StatementAdmin(ReportAdmin):
    def render_page(self, request):
        try:
            month = month_from_param(request.GET.get("month"))
        except InvalidParameter as error:
            messages.error(request, error.detail)
            month = month_from_param(None)
        partners = Partner.objects.order_by("name")
        if is_partner_staff(request):
            partners = partners.filter(pk=request.user.partner_id)
        code = request.GET.get("partner")
        partner = partners.filter(code=code).first() if code else partners.first()
        if code and partner is None:
            raise Http404(gettext("No such partner."))
        statement = partner_statement(partner=partner, month=month) if partner else None
        if statement and request.GET.get("format") == "csv":
            rows = [["owed", line.action, line.count, line.payout, line.currency, "", "", ""]
                    for line in statement.lines]
            rows += [["total", "", "", total, currency, "", "", ""] for currency, total in statement.totals.items()]
            rows.append(["pending (not owed yet)", "", statement.pending_count, statement.pending_payout,
                         partner.payout_currency, "", "", ""])
            rows += [["pending (not owed yet)", "", "", amount, currency, "", "", ""]
                     for currency, amount in statement.pending_elsewhere.items()]
            rows += [["rejected", c.event, 1, c.payout, c.payout_currency, c.event_id, c.occurred_at.isoformat(),
                      c.status_reason] for c in statement.rejected]
            return csv_response(f"statement-{partner.code}-{month:%Y-%m}.csv",
                                ["section", "action", "count", "payout", "currency", "event_id", "occurred_at",
                                 "reason"], rows)
        return TemplateResponse(request, "admin/tracking/statement.html", self.context(
            request, title=gettext("Monthly statement"), statement=statement, partners=partners, partner=partner,
            month=month, csv_query=_with_format(request, "csv") if partner else "", time_zone=settings.TIME_ZONE,
            choose_partner=not is_partner_staff(request),
        ))
