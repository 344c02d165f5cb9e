"""Admin access rules shared by every app: partner staff see only their own partner's data.

A partner staff account is a `users.User` with `partner` set (and not a superuser). It may
open only the admins built on `PartnerScopedAdmin`, and there only rows of its own partner;
any other object, even by a typed URL, is a 404. MoodStream staff keep Django's usual
permissions. Admins that partners must never see derive from `MoodStreamAdmin`.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import models
from django.http import Http404

# A URL typed without a scheme in an admin form means https (Django 6's default, adopted now).
URL_FIELD_OVERRIDES = {models.URLField: {"assume_scheme": "https"}}


def is_partner_staff(request) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and getattr(user, "partner_id", None) and not user.is_superuser)


class MoodStreamAdmin(admin.ModelAdmin):
    """Internal data: closed to partner staff whatever permissions they were given."""

    formfield_overrides = URL_FIELD_OVERRIDES

    def has_module_permission(self, request):
        return not is_partner_staff(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return not is_partner_staff(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not is_partner_staff(request) and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return not is_partner_staff(request) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return not is_partner_staff(request) and super().has_delete_permission(request, obj)


class PartnerScopedAdmin(admin.ModelAdmin):
    """Rows that belong to a partner; partner staff see and act on their own rows only.

    `partner_lookup` is the ORM path from the model to its partner's id ("partner_id"; "pk"
    for the Partner admin itself). `partner_staff_actions` lists what partner staff may do here.
    `partner_staff_hidden_fields` are never shown to them (e.g. anything naming a user).
    """

    formfield_overrides = URL_FIELD_OVERRIDES
    partner_lookup = "partner_id"
    partner_staff_actions: frozenset[str] = frozenset({"view"})
    partner_staff_readonly_fields: tuple[str, ...] = ()
    partner_staff_hidden_fields: tuple[str, ...] = ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_partner_staff(request):
            queryset = queryset.filter(**{self.partner_lookup: request.user.partner_id})
        return queryset

    def _partner_staff_may(self, request, action: str, obj=None) -> bool:
        if action not in self.partner_staff_actions:
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request):
        if is_partner_staff(request):
            return "view" in self.partner_staff_actions
        return super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        if is_partner_staff(request):
            return self._partner_staff_may(request, "view", obj) or self._partner_staff_may(request, "change", obj)
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if is_partner_staff(request):
            return self._partner_staff_may(request, "change", obj)
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request, *args):
        if is_partner_staff(request):
            return "add" in self.partner_staff_actions
        return super().has_add_permission(request, *args)

    def has_delete_permission(self, request, obj=None):
        if is_partner_staff(request):
            return self._partner_staff_may(request, "delete", obj)
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if is_partner_staff(request):
            fields += tuple(f for f in self.partner_staff_readonly_fields if f not in fields)
            fields = tuple(f for f in fields if f not in self.partner_staff_hidden_fields)
        return fields

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if is_partner_staff(request):
            fields = [f for f in fields if f.lstrip("=^@").split("__", 1)[0] not in self.partner_staff_hidden_fields]
        return fields

    def lookup_allowed(self, lookup, value, request=None):
        # No probing hidden fields through the URL either (`?profile__telegram_id=…`).
        if request is not None and is_partner_staff(request):
            if lookup.split("__", 1)[0] in self.partner_staff_hidden_fields:
                return False
        return super().lookup_allowed(lookup, value, request)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if is_partner_staff(request):
            fields = [f for f in fields if f not in self.partner_staff_hidden_fields]
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not is_partner_staff(request) or not self.partner_staff_hidden_fields:
            return fieldsets
        hidden = set(self.partner_staff_hidden_fields)
        visible = []
        for name, options in fieldsets:
            kept = [f for f in options.get("fields", ()) if (f if isinstance(f, str) else None) not in hidden]
            kept = [tuple(x for x in f if x not in hidden) if isinstance(f, (tuple, list)) else f for f in kept]
            visible.append((name, {**options, "fields": [f for f in kept if f]}))
        return visible

    def get_exclude(self, request, obj=None):
        exclude = tuple(super().get_exclude(request, obj) or ())
        if is_partner_staff(request):
            exclude += self.partner_staff_hidden_fields
        return exclude or None

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if is_partner_staff(request):
            hidden = {"partner", *self.partner_staff_hidden_fields}
            columns = [c for c in columns if c not in hidden]
        return columns

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if is_partner_staff(request):
            hidden = {"partner", *self.partner_staff_hidden_fields}
            filters = [f for f in filters if (f if isinstance(f, str) else getattr(f, "parameter_name", "")) not in hidden]
        return filters

    def _check_scoped_object(self, request, object_id):
        # Another partner's object answers 404, exactly like a missing one: no redirect that
        # would confirm the id exists.
        if is_partner_staff(request) and object_id is not None:
            try:
                exists = self.get_queryset(request).filter(pk=unquote(object_id)).exists()
            except (ValueError, TypeError):
                exists = False
            if not exists:
                raise Http404("No such object.")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._check_scoped_object(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._check_scoped_object(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._check_scoped_object(request, object_id)
        return super().history_view(request, object_id, extra_context)
