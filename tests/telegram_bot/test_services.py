"""The bot's one-statement rating write."""

import pytest

from tests.factories import ContentItemFactory, ProfileFactory
from users.models import Rating
from users.services import rating_record

pytestmark = pytest.mark.django_db


def test_a_rating_is_recorded_then_changed_in_place():
    profile, item = ProfileFactory(), ContentItemFactory()
    assert rating_record(profile=profile, item_id=item.pk, value=1, source=Rating.Source.ONBOARDING)
    first = Rating.objects.get(profile=profile, item=item)
    assert rating_record(profile=profile, item_id=item.pk, value=-1, source=Rating.Source.SEARCH)
    second = Rating.objects.get(profile=profile, item=item)
    assert (second.pk, second.value, second.source, second.created_at) == (first.pk, -1, "search", first.created_at)
    assert second.updated_at >= first.updated_at


def test_an_item_that_does_not_exist_writes_nothing():
    profile = ProfileFactory()
    assert rating_record(profile=profile, item_id=999_999_999, value=1, source=Rating.Source.SEARCH) is False
    assert not Rating.objects.exists()


def test_a_value_outside_like_unknown_dislike_is_refused():
    with pytest.raises(ValueError):
        rating_record(profile=ProfileFactory(), item_id=ContentItemFactory().pk, value=2, source=Rating.Source.SEARCH)
