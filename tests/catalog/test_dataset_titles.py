"""Dataset imports fill the English title (every public dataset we read is English-language)."""

import pytest

from catalog.models import ContentItem, Kind
from tests.feeds.test_datasets import DATA, head, load

pytestmark = [
    pytest.mark.dataset,
    pytest.mark.django_db,
    pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not here"),
]


def test_imported_items_get_their_english_title_and_a_set_one_is_kept(tmp_path, capsys):
    godfather = ContentItem.objects.create(kind=Kind.FILM, title="Крёстный отец", original_title="The Godfather",
                                           year=1972, imdb_id="tt0068646", title_en="The Godfather (staff)")
    path = head(DATA / "imdb_top_1000" / "imdb_top_1000.csv", tmp_path / "top.csv", rows=30)
    load(capsys, "imdb-top-1000", path)
    items = ContentItem.objects.exclude(pk=godfather.pk)
    assert items.count() > 20
    assert not items.filter(title_en="").exists()
    assert ContentItem.objects.get(title="The Shawshank Redemption").title_en == "The Shawshank Redemption"
    godfather.refresh_from_db()
    assert godfather.title_en == "The Godfather (staff)"
