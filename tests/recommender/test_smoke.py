from recommender.services import recommend
from recommender.types import RecommendationRequest

from .conftest import make_item


def test_smoke(taxonomy, shop):
    genres, moods = taxonomy
    make_item(shop, [genres[("film", "comedy")]], title="Funny", length_minutes=90)
    make_item(shop, [genres[("film", "drama")]], title="Sad", length_minutes=100)
    make_item(shop, [genres[("book", "humour")]], kind="book", title="Book", pages=200, length_minutes=240)
    make_item(shop, [genres[("track", "pop")]], kind="track", title="Song", duration_seconds=200, length_minutes=4,
              tempo=120, energy=0.7)
    result = recommend(RecommendationRequest(mood=moods["joyful"], minutes=120))
    print(result)
    assert result.results["film"][0].item.title == "Funny"
