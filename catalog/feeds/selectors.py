"""Reads for partner feeds: a preview of a feed as the importer would read it."""

import csv
import io
import itertools
import json
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.utils.translation import gettext

from catalog.models import FeedFormat, FeedImport, Partner, PartnerColumnMapping

from .parsers import CsvParser, detect_format, parser_for
from .rows import ROW_FIELDS, FeedFormatError
from .validation import RowRejected, validate_row

PREVIEW_ROWS = 10
PREVIEW_BYTES = 1024 * 1024


@dataclass
class FeedPreview:
    source: str
    format: str = ""
    error: str = ""
    columns: list[tuple[str, str]] = field(default_factory=list)  # (their column, our field or "")
    fields: list[str] = field(default_factory=list)  # our fields that have a value in some row
    rows: list[dict] = field(default_factory=list)  # {"position", "values": [...], "problems": [...]}


def feed_preview(*, partner: Partner, upload: BinaryIO | None = None, feed_format: str = "") -> FeedPreview:
    """The first rows of `upload` (or of the partner's latest stored feed) read with the partner's
    column mapping, each with the problems validation finds. Reads at most 1 MB."""
    if upload is None:
        latest = FeedImport.objects.filter(partner=partner).exclude(file="").order_by("-created_at").first()
        if latest is None:
            return FeedPreview(source="",
                               error=gettext("Upload a sample of the feed: this partner has no stored feed yet."))
        with latest.file.open("rb") as stored:
            head = stored.read(PREVIEW_BYTES)
        source = gettext("the import of %(when)s") % {"when": f"{latest.created_at:%Y-%m-%d %H:%M}"}
    else:
        head = upload.read(PREVIEW_BYTES)
        source = getattr(upload, "name", "") or gettext("the upload")
    column_map = dict(PartnerColumnMapping.objects.filter(partner=partner).values_list("column", "field"))
    preview = FeedPreview(source=source, format=feed_format or detect_format(head[:4096]))
    parser = parser_for(preview.format, column_map=column_map)
    preview.columns = _columns(parser, preview.format, head)
    try:
        rows = list(itertools.islice(parser.rows(io.BytesIO(head)), PREVIEW_ROWS))
    except FeedFormatError as exc:
        preview.error = str(exc)[:1].upper() + str(exc)[1:]
        return preview
    preview.fields = [name for name in ROW_FIELDS if any(getattr(row, name) for row in rows)]
    for row in rows:
        try:
            validate_row(row, max_description_chars=settings.FEED_MAX_DESCRIPTION_CHARS)
            problems = []
        except RowRejected as exc:
            problems = [f"{problem.field}: {problem.reason}" for problem in exc.problems]
        values = [getattr(row, name) for name in preview.fields]
        preview.rows.append({"position": row.position, "problems": problems,
                             "values": [" | ".join(value) if isinstance(value, tuple) else value[:200]
                                        for value in values]})
    return preview


def _columns(parser, feed_format: str, head: bytes) -> list[tuple[str, str]]:
    """Each column (CSV / TSV) or key (JSON) of the sample and the field it fills ("" = ignored)."""
    text = head.decode("utf-8-sig", "replace").lstrip()
    if isinstance(parser, CsvParser) and not text.startswith("<"):
        header_line = text.split("\n", 1)[0]
        delimiter = max(",;\t", key=header_line.count)
        header = next(csv.reader([header_line], delimiter=delimiter), [])
        return [(name, parser.field_of(name) or "") for name in header]
    if feed_format == FeedFormat.JSON:
        from .parsers import _column_field

        keys: dict[str, None] = {}
        decoder = json.JSONDecoder()
        try:
            value, _end = decoder.raw_decode(text)
        except json.JSONDecodeError:
            first_line = text.split("\n", 1)[0]
            try:
                value = json.loads(first_line)
            except json.JSONDecodeError:
                return []
        for obj in (value[:PREVIEW_ROWS] if isinstance(value, list) else [value]):
            if isinstance(obj, dict):
                keys.update(dict.fromkeys(map(str, obj)))
        return [(key, _column_field(key, parser.column_map) or "") for key in keys]
    return []
