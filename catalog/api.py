"""Partner REST API for feeds: push a feed file, read an import's status and counts."""

import tempfile

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from moodstream.api_input import CleanFormParser, CleanMultiPartParser

from .authentication import IsPartner, PartnerTokenAuthentication
from moodstream.celery import QueueUnavailable

from .feeds.services import FeedRequestError, feed_import_create
from .models import FeedFormat, FeedImport
from .selectors import feed_import_for_partner, feed_imports_recent

_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}
_CHUNK = 1024 * 1024


class RowProblemSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field at fault (empty when the whole row is).")
    reason = serializers.CharField()
    value = serializers.CharField(help_text="The offending value, cut to 200 characters.")


class RejectedRowSerializer(serializers.Serializer):
    position = serializers.CharField(help_text='Where in the file: "offer #12 (line 80)", "line 7", "element #3 (line 9)".')
    sku = serializers.CharField()
    field = serializers.CharField(help_text="The first field at fault (empty when the whole row is).")
    reason = serializers.CharField(help_text="The first field's reason; `problems` lists every one.")
    value = serializers.CharField(help_text="The offending value, cut to 200 characters.")
    problems = RowProblemSerializer(many=True, required=False,
                                    help_text="Every problem of the row, one per field at fault.")


class RejectedReasonSerializer(serializers.Serializer):
    field = serializers.CharField()
    reason = serializers.CharField()
    count = serializers.IntegerField(help_text="How many rows had this problem.")


class UnmappedCategorySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="A category of yours that gave its offers no genre and no kind.")
    offers = serializers.IntegerField()


class FeedImportCountsSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    items_created = serializers.IntegerField()


class FeedImportSerializer(serializers.ModelSerializer):
    counts = serializers.SerializerMethodField()
    rejected_rows = RejectedRowSerializer(many=True)
    rejected_reasons = RejectedReasonSerializer(many=True, help_text="Why rows were rejected, most frequent first.")
    unmapped_categories = UnmappedCategorySerializer(many=True)
    has_rejected_rows = serializers.SerializerMethodField(
        help_text="True when rows were rejected: a succeeded import then lists only part of the feed.")
    duration_seconds = serializers.FloatField(allow_null=True)

    class Meta:
        model = FeedImport
        fields = ["id", "status", "has_rejected_rows", "source", "format", "is_full", "message", "created_at",
                  "started_at", "finished_at", "duration_seconds", "size_bytes", "counts", "rejected_reasons",
                  "rejected_rows", "unmapped_categories"]

    def get_has_rejected_rows(self, obj: FeedImport) -> bool:
        return obj.rejected_count > 0

    @extend_schema_field(FeedImportCountsSerializer)
    def get_counts(self, obj: FeedImport) -> dict:
        return {
            "rows": obj.rows_total, "created": obj.created_count, "updated": obj.updated_count,
            "unchanged": obj.unchanged_count, "rejected": obj.rejected_count, "withdrawn": obj.withdrawn_count,
            "items_created": obj.items_created_count,
        }


class FeedAcceptedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    status_url = serializers.CharField()


class FeedErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    field = serializers.CharField(allow_null=True)


def _too_large() -> str:
    return gettext("The feed is larger than the limit of %(limit)s bytes.") % {"limit": f"{settings.FEED_MAX_BYTES:,}"}


def _error(code: str, detail: str, http_status: int, field: str | None = None) -> Response:
    """The API's error body (moodstream.api_errors)."""
    return Response({"code": code, "detail": detail, "field": field}, status=http_status)


class PartnerTokenScheme(OpenApiAuthenticationExtension):
    """Documents partner token auth in the schema (used by every partner endpoint)."""

    target_class = "catalog.authentication.PartnerTokenAuthentication"
    name = "partnerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "The partner API token (manage.py partner_token CODE)."}


class PartnerAPIView(APIView):
    authentication_classes = [PartnerTokenAuthentication]
    permission_classes = [IsPartner]


FEED_PUSH_PARAMETERS = [
    OpenApiParameter("format", str, enum=FeedFormat.values,
                     description="yml, csv, json (JSON array or JSON Lines) or merchant (Google Merchant / Meta "
                                 "catalog: RSS, Atom, TSV or CSV). Default: detected from the content."),
    OpenApiParameter("full", bool, description="true: offers missing from this feed are withdrawn after it imports. "
                                               "Default: the partner's setting (full)."),
]


class _JsonOnlyNegotiation(DefaultContentNegotiation):
    """Here `?format=` names the pushed feed's format; it must not pick the response renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class FeedListCreateView(PartnerAPIView):
    parser_classes = [CleanMultiPartParser, CleanFormParser]
    content_negotiation_class = _JsonOnlyNegotiation

    @extend_schema(
        operation_id="partner_feed_push",
        summary="Push a feed",
        parameters=FEED_PUSH_PARAMETERS,
        request={
            "application/xml": OpenApiTypes.BINARY, "text/csv": OpenApiTypes.BINARY,
            "application/json": OpenApiTypes.BINARY, "application/x-ndjson": OpenApiTypes.BINARY,
            "application/octet-stream": OpenApiTypes.BINARY,
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
        },
        responses={202: FeedAcceptedSerializer, 400: FeedErrorSerializer, 413: FeedErrorSerializer,
                   503: OpenApiResponse(FeedErrorSerializer, description="The task queue is down (queue_unavailable): "
                                                                         "nothing was imported; send the feed again.")},
    )
    def post(self, request):
        """Send the feed file as the request body (or as the multipart field `file`).

        Answers 202 with the import's id at once; the import runs in the background. Poll
        `GET /api/v1/partner/feeds/<id>` for its status, counts and rejected rows.
        """
        partner = request.auth
        feed_format = (request.query_params.get("format") or "").strip().lower()
        if feed_format and feed_format not in FeedFormat.values:
            return _error("invalid_format", gettext("format must be one of: %(formats)s.")
                          % {"formats": ", ".join(FeedFormat.values)}, 400, "format")
        full = (request.query_params.get("full") or "").strip().lower()
        if full and full not in _TRUE | _FALSE:
            return _error("invalid_full", gettext("full must be true or false."), 400, "full")
        is_full = None if not full else full in _TRUE
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > settings.FEED_MAX_BYTES + 64 * 1024:
            return _error("too_large", _too_large(), 413)
        with tempfile.TemporaryFile() as body:
            if request.content_type.startswith("multipart/form-data"):
                upload = request.FILES.get("file")
                if upload is None:
                    return _error("no_file", gettext("Send the feed as the multipart field 'file' or as the request "
                                                     "body."), 400, "file")
                for chunk in upload.chunks(_CHUNK):
                    body.write(chunk)
            elif not _copy_body(request, body):
                return _error("too_large", _too_large(), 413)
            body.seek(0)
            try:
                feed_import = feed_import_create(partner=partner, source=FeedImport.Source.API,
                                                 feed_format=feed_format, upload=body, is_full=is_full)
            except FeedRequestError as exc:
                code = "too_large" if "limit" in str(exc) else "empty_feed" if "empty" in str(exc) else "invalid_feed"
                return _error(code, str(exc), 413 if code == "too_large" else 400)
            except QueueUnavailable:
                # The import was recorded as failed with the reason; nothing is left pending.
                message = gettext("The import queue is unavailable right now; the feed was not imported. "
                                  "Send it again in a few minutes.")
                unavailable = _error("queue_unavailable", message, 503)
                unavailable["Retry-After"] = "120"
                return unavailable
        feed_import.refresh_from_db(fields=["status"])
        url = reverse("catalog_partner_api:feed-detail", kwargs={"pk": feed_import.pk})
        return Response({"id": feed_import.pk, "status": feed_import.status, "status_url": url},
                        status=status.HTTP_202_ACCEPTED, headers={"Location": url})

    @extend_schema(operation_id="partner_feed_list", summary="Your recent imports",
                   responses={200: FeedImportSerializer(many=True)})
    def get(self, request):
        """Your 50 most recent imports, newest first."""
        return Response(FeedImportSerializer(feed_imports_recent(partner=request.auth), many=True).data)


def _copy_body(request, dest) -> bool:
    """Copy a raw request body to `dest` in chunks; False when it exceeds the size limit."""
    stream = request.stream
    if stream is None:
        return True
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > settings.FEED_MAX_BYTES:
            return False
        dest.write(chunk)
    return True


class FeedImportDetailView(PartnerAPIView):
    @extend_schema(operation_id="partner_feed_status", summary="An import's status and counts",
                   responses={200: FeedImportSerializer, 404: OpenApiResponse(FeedErrorSerializer)})
    def get(self, request, pk):
        """Status (pending, running, succeeded, skipped, failed), counts, timings, the first rejected rows.

        A feed with no valid row, or a full feed with more rejected rows than FEED_MAX_REJECTED_SHARE,
        is `failed` (nothing changed) with its rejected rows and top reasons; a `succeeded` import with
        `has_rejected_rows` lists only part of the feed.
        """
        feed_import = feed_import_for_partner(partner=request.auth, feed_import_id=pk)
        if feed_import is None:
            return _error("not_found", gettext("No such import among yours."), 404)
        return Response(FeedImportSerializer(feed_import).data)
