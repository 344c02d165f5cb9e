"""Admin for partner feeds: the imports (list, detail, upload), genre aliases, "Import feed now".

Imported by catalog/admin.py. Partner staff see and upload only their own partner's imports
(PartnerScopedAdmin); genre aliases are MoodStream's internal data.
"""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.models import (FeedFormat, FeedImport, GenreAlias, Kind, Partner, PartnerCategoryMapping,
                            PartnerColumnMapping)
from catalog.services import normalize_title
from moodstream.admin_scope import MoodStreamAdmin, PartnerScopedAdmin, is_partner_staff
from moodstream.celery import QueueUnavailable

from .rows import ROW_FIELDS
from .selectors import feed_preview
from .services import FeedRequestError, feed_import_create, partner_import_feed_now

_STATUS_COLOURS = {
    FeedImport.Status.PENDING: "#777", FeedImport.Status.RUNNING: "#205493",
    FeedImport.Status.SUCCEEDED: "#2e7d32", FeedImport.Status.SKIPPED: "#6d6d00", FeedImport.Status.FAILED: "#c62828",
}
_WARNING_COLOUR = "#b26a00"


class FeedUploadForm(forms.Form):
    partner = forms.ModelChoiceField(label=_("Partner"), queryset=Partner.objects.none())
    file = forms.FileField(label=_("File"), help_text=_("A YML, CSV, JSON or Google Merchant / Meta catalog feed file."))
    format = forms.ChoiceField(label=_("Format"), choices=[("", _("Detect from the content")), *FeedFormat.choices],
                               required=False)
    fullness = forms.ChoiceField(
        label=_("Feed kind"),
        choices=[("", _("The partner's setting")), ("full", _("Full: withdraw offers missing from it")),
                 ("partial", _("Partial: only add and update"))],
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
            raise forms.ValidationError(gettext("The file is %(size)s bytes; the limit is %(limit)s.")
                                        % {"size": f"{upload.size:,}", "limit": f"{settings.FEED_MAX_BYTES:,}"})
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
        (_("Counts"), {"fields": ["rows_total", "created_count", "updated_count", "unchanged_count", "rejected_count",
                               "withdrawn_count", "items_created_count"]}),
        (_("Timings"), {"fields": ["created_at", "started_at", "finished_at", "duration"]}),
        (_("Rejected rows"), {"fields": ["reasons_table", "rejected_table"]}),
        (_("Categories"), {"fields": ["unmapped_table"]}),
    ]
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"]]

    def has_change_permission(self, request, obj=None):
        return False  # an import is a record of what happened

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("Status"), ordering="status")
    def status_badge(self, obj):
        if obj.status == FeedImport.Status.SUCCEEDED and obj.rejected_count:
            rejected = gettext("%(rejected)s of %(total)s rows rejected") % {
                "rejected": f"{obj.rejected_count:,}", "total": f"{obj.rows_total:,}"}
            return format_html('<b style="color:{}">{} — {}</b>', _WARNING_COLOUR, obj.get_status_display(), rejected)
        return format_html('<b style="color:{}">{}</b>', _STATUS_COLOURS.get(obj.status, "#000"),
                           obj.get_status_display())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        feed_import = self.get_object(request, object_id)
        if feed_import is not None and feed_import.status == FeedImport.Status.SUCCEEDED and feed_import.rejected_count:
            self.message_user(request, gettext("%(rejected)s of %(total)s rows of this feed were rejected and are not "
                                               "listed; their reasons are below.")
                              % {"rejected": f"{feed_import.rejected_count:,}", "total": f"{feed_import.rows_total:,}"},
                              messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("Reasons"))
    def reasons_table(self, obj):
        if not obj.rejected_reasons:
            return gettext("None")
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (f"{entry.get('count', 0):,}", entry.get("field", ""), entry.get("reason", ""))
            for entry in obj.rejected_reasons))
        # The reasons are stored as the import wrote them (data, like the feed's text): only the chrome is translated.
        return format_html("<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
                           gettext("Rows"), gettext("Field"), gettext("Reason"), rows)

    @admin.display(description=_("Categories with no genre"))
    def unmapped_table(self, obj):
        if not obj.unmapped_categories:
            return gettext("None")
        add = reverse("admin:catalog_partnercategorymapping_add")
        map_it = gettext("Map it")
        rows = format_html_join("", '<tr><td>{}</td><td>{}</td><td><a href="{}?{}">{}</a></td></tr>', (
            (entry.get("name", ""), f"{entry.get('offers', 0):,}", add,
             urlencode({"partner": obj.partner_id, "category": entry.get("name", "")}), map_it)
            for entry in obj.unmapped_categories))
        return format_html("<table><thead><tr><th>{}</th><th>{}</th><th></th></tr></thead><tbody>{}</tbody></table>",
                           gettext("Category"), gettext("Offers"), rows)

    @admin.display(description=_("Duration"))
    def duration(self, obj):
        seconds = obj.duration_seconds
        return "—" if seconds is None else gettext("%(seconds).1f s") % {"seconds": seconds}

    @admin.display(description=_("First rejected rows"))
    def rejected_table(self, obj):
        if not obj.rejected_rows:
            return gettext("None")
        # Every cell goes through format_html: feed text is shown as text, never as markup.
        # One table row per problem: a row with three bad fields shows three reasons.
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            ((row.get("position", ""), row.get("sku", ""), problem.get("field", ""), problem.get("reason", ""),
              problem.get("value", "")) for row in obj.rejected_rows for problem in row.get("problems", [row])),
        )
        more = obj.rejected_count - len(obj.rejected_rows)
        return format_html(
            '<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>{}", gettext("Where"), gettext("SKU"), gettext("Field"), gettext("Reason"), gettext("Value"), rows,
            format_html("<p>{}</p>", gettext("… and %(n)d more rejected rows.") % {"n": more}) if more > 0 else "",
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
                form.add_error(None, gettext("The import queue (Redis) is unavailable; the feed was not imported. "
                                             "Try again when it is back."))
            else:
                self.message_user(request, gettext("The feed was uploaded; its import runs in the background."),
                                  messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:catalog_feedimport_change", args=[feed_import.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Upload a feed"), "form": form, "opts": self.model._meta,
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


@admin.action(description=_("Import feed now (from the feed URL)"), permissions=["change"])
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
        modeladmin.message_user(request, ngettext(
            "Started %(n)d feed import; see Feed imports for the result.",
            "Started %(n)d feed imports; see Feed imports for the result.", started) % {"n": started},
                                messages.SUCCESS)
    if skipped:
        modeladmin.message_user(request, gettext("No feed URL set for: %(names)s.") % {"names": ", ".join(skipped)},
                                messages.WARNING)
    if not_queued:
        modeladmin.message_user(request, gettext("The import queue (Redis) is unavailable: no import started for "
                                                 "%(names)s. Try again when it is back.")
                                % {"names": ", ".join(not_queued)}, messages.ERROR)


class _PartnerMappingAdmin(PartnerScopedAdmin):
    """A partner's own mapping rows: partner staff edit their partner's, staff everyone's."""

    partner_staff_actions = frozenset({"view", "add", "change", "delete"})
    list_select_related = ["partner"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "partner" and is_partner_staff(request):
            kwargs["queryset"] = Partner.objects.filter(pk=request.user.partner_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if is_partner_staff(request):
            obj.partner_id = request.user.partner_id
        super().save_model(request, obj, form, change)


class PartnerCategoryMappingForm(forms.ModelForm):
    class Meta:
        model = PartnerCategoryMapping
        fields = ["partner", "category", "kind", "genre"]

    def clean(self):
        cleaned = super().clean()
        genre, kind = cleaned.get("genre"), cleaned.get("kind")
        if genre is not None and kind and genre.kind != kind:
            self.add_error("genre", gettext("%(genre)s is a %(genre_kind)s genre, and the kind chosen is %(kind)s.")
                           % {"genre": genre, "genre_kind": str(Kind(genre.kind).label).lower(),
                              "kind": str(Kind(kind).label).lower()})
        return cleaned

    def clean_category(self):
        # Stored the way the importer looks names up, and so unique per partner in that form.
        return normalize_title(self.cleaned_data["category"])


@admin.register(PartnerCategoryMapping)
class PartnerCategoryMappingAdmin(_PartnerMappingAdmin):
    form = PartnerCategoryMappingForm
    list_display = ["category", "partner", "kind", "genre"]
    list_filter = ["partner", "kind"]
    search_fields = ["category", "genre__code", "genre__name_en", "genre__name_ru"]
    autocomplete_fields = ["genre"]
    list_select_related = ["partner", "genre"]

    def get_changeform_initial_data(self, request):
        # "Map it" links from an import's unmapped categories prefill partner and category.
        return {key: request.GET[key] for key in ("partner", "category") if key in request.GET}


class PartnerColumnMappingForm(forms.ModelForm):
    # The choices are our feed field names (code, as docs/feeds.md and the API write them): not translated.
    field = forms.ChoiceField(label=_("Field"), choices=[("", _("(ignore this column)")),
                                                         *((name, name) for name in ROW_FIELDS)],
                              required=False, help_text=_("Our feed field (docs/feeds.md lists them)."))

    class Meta:
        model = PartnerColumnMapping
        fields = ["partner", "column", "field"]


class FeedPreviewForm(forms.Form):
    partner = forms.ModelChoiceField(label=_("Partner"), queryset=Partner.objects.none())
    file = forms.FileField(label=_("File"), required=False,
                           help_text=_("A sample of the feed; empty: the partner's latest uploaded feed."))
    format = forms.ChoiceField(label=_("Format"), choices=[("", _("Detect from the content")), *FeedFormat.choices],
                               required=False)


@admin.register(PartnerColumnMapping)
class PartnerColumnMappingAdmin(_PartnerMappingAdmin):
    form = PartnerColumnMappingForm
    list_display = ["column", "field", "partner"]
    list_filter = ["partner"]
    search_fields = ["column", "field"]

    def get_urls(self):
        return [path("preview/", self.admin_site.admin_view(self.preview_view),
                     name="catalog_partnercolumnmapping_preview"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "preview_url": reverse("admin:catalog_partnercolumnmapping_preview")}
        return super().changelist_view(request, extra_context)

    def preview_view(self, request):
        """The first rows of a feed as the importer reads them with the partner's column mapping."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        partners = Partner.objects.all()
        if is_partner_staff(request):
            partners = partners.filter(pk=request.user.partner_id)
        form = FeedPreviewForm(request.POST or request.GET or None, request.FILES or None)
        form.fields["partner"].queryset = partners
        if partners.count() == 1:
            form.fields["partner"].initial = partners.first()
        preview = None
        if form.is_bound and form.is_valid():
            preview = feed_preview(partner=form.cleaned_data["partner"], upload=form.cleaned_data["file"],
                                   feed_format=form.cleaned_data["format"])
        context = {
            **self.admin_site.each_context(request), "title": gettext("Preview a feed with the column mapping"),
            "form": form, "preview": preview, "opts": self.model._meta, "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/catalog/partnercolumnmapping/preview.html", context)
