import io

from catalog.feeds.genres import CategoryMapper, GenreMapper
from catalog.feeds.importer import StoredDigests
from catalog.feeds.parsers import OfferSources, YmlParser
from catalog.feeds.services import feed_import_create, source_context
from catalog.feeds.writers import writer_for_connection
from catalog.models import FeedImport
from catalog.tasks import import_partner_feed


def run_import(partner, data: bytes, feed_format: str = "", is_full: bool | None = None) -> FeedImport:
    """Record an import of `data` and run the Celery task on it (eagerly, as without Redis)."""
    feed_import = feed_import_create(partner=partner, source=FeedImport.Source.COMMAND, feed_format=feed_format,
                                     upload=io.BytesIO(data), filename=f"feed.{feed_format or 'dat'}",
                                     is_full=is_full, enqueue=False)
    import_partner_feed.delay(str(feed_import.pk))
    feed_import.refresh_from_db()
    return feed_import


def run_url_import(partner, url: str, feed_format: str = "") -> FeedImport:
    feed_import = feed_import_create(partner=partner, source=FeedImport.Source.URL, feed_format=feed_format, url=url,
                                     enqueue=False)
    import_partner_feed.delay(str(feed_import.pk))
    feed_import.refresh_from_db()
    return feed_import


def rows_with_sources(partner, data: bytes):
    """The rows a YML re-import of `data` by `partner` parses, one by one: its offers' stored source
    hashes and its mappings, as the import has them (offers stored as they are come as UnchangedOffer)."""
    categories = CategoryMapper(partner_id=partner.pk, genres=GenreMapper("feed"))
    _rows, stored = StoredDigests.gather(*writer_for_connection().stored_digests(partner.pk))
    sources = OfferSources(context=source_context("yml", {}, categories), stored=stored)
    return YmlParser(sources=sources).rows(io.BytesIO(data))
