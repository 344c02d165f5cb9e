"""Admin for partner feeds: the imports (list, detail, upload), genre aliases, "Import feed now".

Imported by catalog/admin.py. Partner staff see and upload only their own partner's imports
(PartnerScopedAdmin); genre aliases are MoodStream's internal data.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from catalog.models import FeedFormat, FeedImport, GenreAlias, Partner
from catalog.services import normalize_title
from moodstream.admin_scope import MoodStreamAdmin, PartnerScopedAdmin, is_partner_staff
from moodstream.celery import QueueUnavailable

from .services import FeedRequestError, feed_import_create, partner_import_feed_now

_STATUS_COLOURS = {
    FeedImport.Status.PENDING: "#777", FeedImport.Status.RUNNING: "#205493",
    FeedImport.Status.SUCCEEDED: "#2e7d32", FeedImport.Status.SKIPPED: "#6d6d00", FeedImport.Status.FAILED: "#c62828",
}


class FeedUploadForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=Partner.objects.none())
    file = forms.FileField(help_text="A YML, CSV or JSON feed file.")
    format = forms.ChoiceField(choices=[("", "Detect from the content"), *FeedFormat.choices], required=False)
    fullness = forms.ChoiceField(
        label="Feed kind",
        choices=[("", "The partner's setting"), ("full", "Full: withdraw offers missing from it"),
                 ("partial", "Partial: only add and update")],
        required=False,
    )

    def __init__(self, *args, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners
        if partners.count() == 1:
            self.fields["partner"].initial = partners.first()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.FEED_MAX_BYTES:
            raise forms.ValidationError(f"The file is {upload.size:,} bytes; the limit is {settings.FEED_MAX_BYTES:,}.")
        return upload


@admin.register(FeedImport)
class FeedImportAdmin(PartnerScopedAdmin):
    # Partner staff may look at their imports and upload a feed ("add"), nothing else.
    partner_staff_actions = frozenset({"view", "add"})
    list_display = ["created_at", "partner", "source", "format", "status_badge", "rows_total", "created_count",
                    "updated_count", "unchanged_count", "rejected_count", "withdrawn_count", "duration"]
    list_filter = ["status", "source", "format", "partner"]
    list_select_related = ["partner"]
    date_hierarchy = "created_at"
    search_fields = ["=id", "partner__code", "partner__name", "source_url", "message"]
    fieldsets = [
        (None, {"fields": ["partner", "status_badge", "message", "source", "format", "is_full", "source_url", "file",
                           "size_bytes", "content_sha256"]}),
        ("Counts", {"fields": ["rows_total", "created_count", "updated_count", "unchanged_count", "rejected_count",
                               "withdrawn_count", "items_created_count"]}),
        ("Timings", {"fields": ["created_at", "started_at", "finished_at", "duration"]}),
        ("Rejected rows", {"fields": ["rejected_table"]}),
    ]
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"]]

    def has_change_permission(self, request, obj=None):
        return False  # an import is a record of what happened

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return format_html('<b style="color:{}">{}</b>', _STATUS_COLOURS.get(obj.status, "#000"),
                           obj.get_status_display())

    @admin.display(description="Duration")
    def duration(self, obj):
        seconds = obj.duration_seconds
        return "—" if seconds is None else f"{seconds:.1f} s"

    @admin.display(description="First rejected rows")
    def rejected_table(self, obj):
        if not obj.rejected_rows:
            return "None"
        # Every cell goes through format_html: feed text is shown as text, never as markup.
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            ((row.get("position", ""), row.get("sku", ""), row.get("field", ""), row.get("reason", ""),
              row.get("value", "")) for row in obj.rejected_rows),
        )
        more = obj.rejected_count - len(obj.rejected_rows)
        return format_html(
            '<table><thead><tr><th>Where</th><th>SKU</th><th>Field</th><th>Reason</th><th>Value</th></tr></thead>'
            "<tbody>{}</tbody></table>{}", rows,
            format_html("<p>… and {} more rejected rows.</p>", more) if more > 0 else "",
        )

    def add_view(self, request, form_url="", extra_context=None):
        """"Add feed import" is the upload form: the file is imported through the usual task."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        partners = Partner.objects.filter(is_active=True)
        if is_partner_staff(request):
            partners = partners.filter(pk=request.user.partner_id)
        form = FeedUploadForm(request.POST or None, request.FILES or None, partners=partners)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            fullness = form.cleaned_data["fullness"]
            try:
                feed_import = feed_import_create(
                    partner=form.cleaned_data["partner"], source=FeedImport.Source.UPLOAD,
                    feed_format=form.cleaned_data["format"], upload=upload, filename=upload.name,
                    is_full=None if not fullness else fullness == "full",
                )
            except FeedRequestError as exc:
                form.add_error("file", str(exc))
            except QueueUnavailable:
                form.add_error(None, "The import queue (Redis) is unavailable; the feed was not imported. "
                                     "Try again when it is back.")
            else:
                self.message_user(request, "The feed was uploaded; its import runs in the background.",
                                  messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:catalog_feedimport_change", args=[feed_import.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a feed", "form": form, "opts": self.model._meta,
            "media": self.media + form.media, "has_view_permission": self.has_view_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/catalog/feedimport/upload.html", context)


@admin.register(GenreAlias)
class GenreAliasAdmin(MoodStreamAdmin):
    list_display = ["name", "source", "kind", "genre"]
    list_editable = ["genre"]
    list_filter = ["source", "kind"]
    search_fields = ["name", "genre__code", "genre__name_en", "genre__name_ru"]
    autocomplete_fields = ["genre"]
    list_select_related = ["genre"]
    fields = ["source", "kind", "name", "genre"]

    def save_model(self, request, obj, form, change):
        # Stored the way importers look names up.
        obj.name = normalize_title(obj.name)
        super().save_model(request, obj, form, change)


@admin.action(description="Import feed now (from the feed URL)", permissions=["change"])
def import_feed_now(modeladmin, request, queryset):
    """For PartnerAdmin: fetch and import each selected partner's feed URL at once."""
    started, skipped, not_queued = 0, [], []
    for partner in queryset:
        try:
            partner_import_feed_now(partner=partner)
            started += 1
        except FeedRequestError:
            skipped.append(partner.name)
        except QueueUnavailable:
            not_queued.append(partner.name)  # its import is recorded as failed, with the reason
    if started:
        modeladmin.message_user(request, f"Started {started} feed import(s); see Feed imports for the result.",
                                messages.SUCCESS)
    if skipped:
        modeladmin.message_user(request, f"No feed URL set for: {', '.join(skipped)}.", messages.WARNING)
    if not_queued:
        modeladmin.message_user(request, f"The import queue (Redis) is unavailable: no import started for "
                                         f"{', '.join(not_queued)}. Try again when it is back.", messages.ERROR)
