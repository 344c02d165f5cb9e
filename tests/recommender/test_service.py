"""The recommendation service: each signal, the time and diversity rules, the log and the query count."""

from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import ContentItem, Offer
from recommender.collab import collab_index_clear
from recommender.index import catalogue_index, catalogue_index_clear
from recommender.models import Recommendation
from recommender.scoring import BASELINE, Strategy, score_kind, top_positions
from recommender.services import recommend
from recommender.signals import KindTaste, MoodProfile
from recommender.types import RecommendationRequest
from tests.factories import OfferFactory, PartnerFactory, ProfileFactory, RatingFactory
from tracking.links import read_offer_link_token
from users.models import Rating

from .conftest import make_item

pytestmark = pytest.mark.django_db


def titles(result, kind):
    return [p.item.title for p in result.results[kind]]


def ask(mood, minutes=120, **kw):
    return recommend(RecommendationRequest(mood=mood, minutes=minutes, **kw))


def test_mood_decides_between_a_comedy_and_a_drama(taxonomy, shop):
    genres, moods = taxonomy
    make_item(shop, [genres[("film", "comedy")]], title="Comedy", length_minutes=95)
    make_item(shop, [genres[("film", "drama")]], title="Drama", length_minutes=95)

    assert titles(ask(moods["joyful"], kinds=("film",), limit=1), "film") == ["Comedy"]
    assert titles(ask(moods["melancholic"], kinds=("film",), limit=1), "film") == ["Drama"]


def test_editorial_mood_tag_counts_as_mood_fit(taxonomy, shop):
    genres, moods = taxonomy
    tagged = make_item(shop, [genres[("film", "action")]], title="Tagged calm", length_minutes=95)
    tagged.moods.add(moods["calm"])
    make_item(shop, [genres[("film", "action")]], title="Untagged", length_minutes=95, rating=8.0)

    assert titles(ask(moods["calm"], kinds=("film",), limit=1), "film") == ["Tagged calm"]


def test_track_audio_features_follow_the_mood_and_genre_is_the_fallback(taxonomy, shop):
    genres, moods = taxonomy
    rock = genres[("track", "rock")]
    common = dict(kind="track", duration_seconds=200, length_minutes=4)
    make_item(shop, [rock], title="Fast loud", tempo=145, energy=0.92, valence=0.7, creators=["A"], **common)
    make_item(shop, [rock], title="Slow quiet", tempo=70, energy=0.2, valence=0.6, creators=["B"], **common)
    make_item(shop, [genres[("track", "ambient")]], title="No audio ambient", creators=["C"], **common)

    energetic = titles(ask(moods["energetic"], kinds=("track",), limit=3), "track")
    assert energetic[0] == "Fast loud"
    calm = titles(ask(moods["calm"], kinds=("track",), limit=3), "track")
    # Without audio features the ambient track still fits "calm" through its genre.
    assert calm.index("No audio ambient") < calm.index("Fast loud")
    assert calm.index("Slow quiet") < calm.index("Fast loud")


def test_no_film_longer_than_the_minutes_and_an_empty_kind_says_why(taxonomy, shop):
    genres, moods = taxonomy
    make_item(shop, [genres[("film", "comedy")]], title="Long", length_minutes=150)
    make_item(shop, [genres[("film", "comedy")]], title="Short", length_minutes=85)
    make_item(shop, [genres[("film", "comedy")]], title="Unknown runtime", length_minutes=None)

    assert titles(ask(moods["joyful"], minutes=90, kinds=("film",)), "film") == ["Short"]
    result = ask(moods["joyful"], minutes=5, kinds=("film",))
    assert result.results["film"] == []
    assert result.empty_reasons["film"].en == "no film fits in 5 min"
    assert "не уложится" in result.empty_reasons["film"].ru


def test_long_books_are_offered_as_a_read_for_several_evenings(taxonomy, shop):
    genres, moods = taxonomy
    make_item(shop, [genres[("book", "humour")]], kind="book", title="Thick", pages=600, length_minutes=None)
    result = ask(moods["joyful"], minutes=60, kinds=("book",))
    pick = result.results["book"][0]
    codes = [r.code for r in pick.reasons]
    assert "several_evenings" in codes
    # 600 pages × 1.2 min/page (settings.BOOK_MINUTES_PER_PAGE) = 12 h.
    assert "about 12 h" in next(r.en for r in pick.reasons if r.code == "several_evenings")


def test_playlist_fills_the_time_without_repeating_an_artist(taxonomy, shop):
    genres, moods = taxonomy
    pop = genres[("track", "pop")]
    for i in range(40):
        make_item(shop, [pop], kind="track", title=f"Song {i}", creators=[f"Artist {i % 15}"],
                  duration_seconds=150 + (i * 37) % 150, length_minutes=4, tempo=120, energy=0.7)
    result = ask(moods["joyful"], minutes=30, kinds=("track",))
    playlist = result.playlist
    assert playlist is not None
    assert 0.9 * 30 * 60 <= playlist.total_seconds <= 30 * 60
    artists = [p.item.creators[0] for p in playlist.items]
    assert len(artists) == len(set(artists))
    assert [p.item.pk for p in result.results["track"]] == [p.item.pk for p in playlist.items[:3]]


def test_top_three_never_holds_two_of_one_series_or_one_director(taxonomy, shop):
    genres, moods = taxonomy
    comedy = genres[("film", "comedy")]
    for part in range(3):
        make_item(shop, [comedy], title=f"Saga {part}", series="Saga", creators=[f"D{part}"], rating=9.0,
                  votes=100000, length_minutes=100)
    for n in range(2):
        make_item(shop, [comedy], title=f"Auteur {n}", creators=["Same Director"], rating=8.9, votes=100000,
                  length_minutes=100)
    make_item(shop, [comedy], title="Other", creators=["Someone"], rating=6.0, votes=100, length_minutes=100)

    top = ask(moods["joyful"], kinds=("film",), limit=3).results["film"]
    assert len({p.item.series for p in top if p.item.series}) == sum(1 for p in top if p.item.series)
    assert len({p.item.primary_creator for p in top}) == 3


def test_only_items_with_an_available_offer_are_recommended(taxonomy, shop):
    genres, moods = taxonomy
    make_item(shop, [genres[("film", "comedy")]], title="No offer", offer=False, rating=9.9)
    withdrawn = make_item(shop, [genres[("film", "comedy")]], title="Withdrawn", rating=9.9)
    Offer.objects.filter(item=withdrawn).update(available=False)
    make_item(shop, [genres[("film", "comedy")]], title="On sale", rating=5.0)

    assert titles(ask(moods["joyful"], kinds=("film",)), "film") == ["On sale"]


def test_quality_prior_prefers_many_votes_over_a_few_high_ones(taxonomy, shop):
    genres, moods = taxonomy
    drama = genres[("film", "drama")]
    make_item(shop, [drama], title="Few votes", rating=9.0, votes=12)
    make_item(shop, [drama], title="Many votes", rating=8.5, votes=2_000_000)
    for i in range(5):
        make_item(shop, [drama], title=f"Filler {i}", rating=6.5, votes=5000)

    assert titles(ask(moods["melancholic"], kinds=("film",), limit=1), "film") == ["Many votes"]


def test_chosen_genres_and_liked_items_steer_the_picks(taxonomy, shop):
    genres, moods = taxonomy
    comedy, animation, musical = (genres[("film", c)] for c in ("comedy", "animation", "musical"))
    make_item(shop, [comedy, animation], title="Cartoon", rating=7.0)
    make_item(shop, [comedy, musical], title="Singing", rating=7.0)
    profile = ProfileFactory()
    profile.genres.set([musical])
    assert titles(ask(moods["joyful"], kinds=("film",), limit=1, profile=profile), "film") == ["Singing"]

    liked = make_item(shop, [comedy, animation], title="Liked cartoon")
    RatingFactory(profile=profile, item=liked, value=Rating.Value.LIKE)
    profile.genres.clear()
    result = ask(moods["joyful"], kinds=("film",), limit=2, profile=profile)
    assert titles(result, "film")[0] == "Cartoon"
    assert "Liked cartoon" not in titles(result, "film")  # already judged: not offered again
    assert any(r.code == "similar_to_liked" for r in result.results["film"][0].reasons)


def test_disliked_items_push_similar_ones_down(taxonomy, shop):
    genres, moods = taxonomy
    comedy, horror, animation = (genres[("film", c)] for c in ("comedy", "horror", "animation"))
    make_item(shop, [comedy, horror], title="Scary comedy", rating=7.0)
    make_item(shop, [comedy, animation], title="Cartoon", rating=7.0)
    profile = ProfileFactory()
    RatingFactory(profile=profile, item=make_item(shop, [horror], title="Hated horror"), value=Rating.Value.DISLIKE)
    assert titles(ask(moods["joyful"], kinds=("film",), limit=1, profile=profile), "film") == ["Cartoon"]


def test_collaborative_signal_follows_other_users_ratings(taxonomy, shop, settings):
    settings.RECOMMENDER_COLLAB_MIN_RATINGS = 10
    genres, moods = taxonomy
    comedy = genres[("film", "comedy")]
    seed_item = make_item(shop, [comedy], title="Seed")
    together = make_item(shop, [comedy], title="Liked together")
    make_item(shop, [comedy], title="Unrelated")
    for _ in range(6):
        other = ProfileFactory()
        RatingFactory(profile=other, item=seed_item, value=Rating.Value.LIKE)
        RatingFactory(profile=other, item=together, value=Rating.Value.LIKE)
    me = ProfileFactory()
    RatingFactory(profile=me, item=seed_item, value=Rating.Value.LIKE)
    assert titles(ask(moods["joyful"], kinds=("film",), limit=1, profile=me), "film") == ["Liked together"]


def test_exclude_leaves_items_out_of_this_request_only(taxonomy, shop):
    genres, moods = taxonomy
    first = make_item(shop, [genres[("film", "comedy")]], title="First", rating=9.0, votes=10000)
    make_item(shop, [genres[("film", "comedy")]], title="Second", rating=7.0)
    assert titles(ask(moods["joyful"], kinds=("film",), limit=1, exclude_item_ids=frozenset({first.pk})),
                  "film") == ["Second"]
    assert titles(ask(moods["joyful"], kinds=("film",), limit=1), "film") == ["First"]


def test_every_request_is_logged_with_its_items_and_offer_links_name_it(taxonomy, shop):
    genres, moods = taxonomy
    make_item(shop, [genres[("film", "comedy")]], title="Comedy", length_minutes=25)
    make_item(shop, [genres[("track", "pop")]], kind="track", title="Song", duration_seconds=200, length_minutes=4)
    result = ask(moods["joyful"], minutes=30, kinds=("film", "track"))
    logged = Recommendation.objects.get(pk=result.request_id)
    assert logged.strategy == result.strategy == "heuristic"
    assert logged.mood == moods["joyful"] and logged.minutes == 30 and logged.kinds == ["film", "track"]
    items = {(i.item.title, i.kind, i.rank) for i in logged.items.select_related("item")}
    assert items == {("Comedy", "film", 1), ("Song", "track", 1)}
    assert logged.items.get(kind="track").in_playlist
    offer = result.results["film"][0].offers[0]
    target = read_offer_link_token(offer.link.rsplit("/", 1)[1])
    assert target.recommendation_id == result.request_id and target.offer_id == offer.offer_id
    # Altering the token breaks it.
    assert read_offer_link_token(offer.link.rsplit("/", 1)[1].replace(".", ".0", 1)) is None


def test_index_sees_catalogue_changes_without_a_restart(taxonomy, shop, settings):
    genres, moods = taxonomy
    make_item(shop, [genres[("film", "comedy")]], title="Old", rating=6.0)
    assert titles(ask(moods["joyful"], kinds=("film",)), "film") == ["Old"]
    make_item(shop, [genres[("film", "comedy")]], title="New", rating=9.0, votes=10000)
    assert titles(ask(moods["joyful"], kinds=("film",)), "film") == ["New", "Old"]
    Offer.objects.filter(item__title="New").update(available=False)
    assert titles(ask(moods["joyful"], kinds=("film",)), "film") == ["Old"]


def _catalogue(shop, genres, count):
    comedy, pop, humour = genres[("film", "comedy")], genres[("track", "pop")], genres[("book", "humour")]
    for i in range(count):
        make_item(shop, [comedy], title=f"Film {i}", creators=[f"Director {i}"], length_minutes=50)
        make_item(shop, [humour], kind="book", title=f"Book {i}", creators=[f"Author {i}"], pages=100 + i)
        make_item(shop, [pop], kind="track", title=f"Track {i}", creators=[f"Artist {i}"], duration_seconds=180,
                  length_minutes=3)


def test_query_count_does_not_grow_with_catalogue_or_picks(taxonomy, shop, settings):
    """3 queries per request on PostgreSQL (the user's taste, the log, the picks with their offers); the
    stamp and serving-config checks add a few at most every RECOMMENDER_INDEX_REFRESH_SECONDS. Elsewhere
    the log is two ORM inserts in a transaction: 6."""
    genres, moods = taxonomy
    profile = ProfileFactory()
    settings.RECOMMENDER_INDEX_REFRESH_SECONDS = 3600
    _catalogue(shop, genres, 1)
    ask(moods["joyful"], profile=profile)  # builds the index
    with CaptureQueriesContext(connection) as small:
        ask(moods["joyful"], profile=profile, limit=1)
    _catalogue(shop, genres, 30)
    catalogue_index_clear()
    collab_index_clear()
    ask(moods["joyful"], profile=profile)
    with CaptureQueriesContext(connection) as large:
        result = ask(moods["joyful"], minutes=60, profile=profile, limit=10)
    assert len(result.results["film"]) == 10 and len(result.playlist.items) == 20
    assert len(large) == len(small) == (3 if connection.vendor == "postgresql" else 6)


def test_language_of_the_profile_picks_the_reason_text(taxonomy, shop):
    genres, moods = taxonomy
    make_item(shop, [genres[("film", "comedy")]], title="Comedy")
    result = ask(moods["joyful"], kinds=("film",), profile=ProfileFactory(language="en"))
    assert result.language == "en"
    reason = result.results["film"][0].reasons[0]
    assert reason.text("en") == "comedy for a joyful mood"
    assert reason.text("ru") == "«Комедия» — под радостное настроение"


def test_popularity_prior_breaks_otherwise_equal_items(taxonomy, shop):
    genres, moods = taxonomy
    drama = genres[("film", "drama")]
    make_item(shop, [drama], title="Niche", popularity=5)
    make_item(shop, [drama], title="Popular", popularity=95)
    assert titles(ask(moods["melancholic"], kinds=("film",)), "film") == ["Popular", "Niche"]


def test_baseline_strategy_ignores_mood_but_not_time(taxonomy, shop):
    genres, moods = taxonomy
    make_item(shop, [genres[("film", "drama")]], title="Top drama", rating=9.0, votes=100000, length_minutes=100)
    make_item(shop, [genres[("film", "comedy")]], title="Comedy", rating=6.0, votes=100000, length_minutes=100)
    make_item(shop, [genres[("film", "drama")]], title="Too long", rating=9.5, votes=100000, length_minutes=200)
    ix = catalogue_index().kinds["film"]
    empty = KindTaste(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int8))
    mood = MoodProfile.from_mood(moods["joyful"], catalogue_index().mood_weights[moods["joyful"].pk])
    score = score_kind(ix, None, strategy=Strategy(BASELINE), mood=mood, minutes=120, taste=empty).score
    best = ix.item_ids[int(np.argmax(score))]
    assert ContentItem.objects.get(pk=best).title == "Top drama"


def test_picked_items_carry_their_genres_and_available_offers_cheapest_first(taxonomy, shop):
    genres, moods = taxonomy
    item = make_item(shop, [genres[("film", "comedy")], genres[("film", "animation")], genres[("film", "musical")]],
                     title="Cartoon musical", price="399.00")
    cheaper = PartnerFactory(code="cheap", name="Cheap shop")
    OfferFactory(partner=cheaper, item=item, price=Decimal("199.00"))
    withdrawn = OfferFactory(partner=PartnerFactory(code="gone", name="Gone"), item=item, price=Decimal("99.00"))
    Offer.objects.filter(pk=withdrawn.pk).update(available=False)

    pick = ask(moods["joyful"], kinds=("film",)).results["film"][0]
    with CaptureQueriesContext(connection) as queries:
        shown_genres = list(pick.item.genres.all())
    assert not queries  # the genres come with the pick, for the API and the bot alike
    assert shown_genres == list(ContentItem.objects.get(pk=item.pk).genres.all())
    assert [(o.partner_code, o.price) for o in pick.offers] == [("cheap", Decimal("199.00")), ("shop", Decimal("399.00"))]
    assert pick.item.description == item.description and pick.item.creators == item.creators


def test_a_renamed_genre_reaches_the_picks_without_a_restart(taxonomy, shop):
    genres, moods = taxonomy
    comedy = genres[("film", "comedy")]
    make_item(shop, [comedy], title="Comedy")
    assert [g.name_en for g in ask(moods["joyful"], kinds=("film",)).results["film"][0].item.genres.all()] == ["Comedy"]
    comedy.name_en = "Comic film"
    comedy.save(update_fields=["name_en"])
    pick = ask(moods["joyful"], kinds=("film",)).results["film"][0]
    assert [g.name_en for g in pick.item.genres.all()] == ["Comic film"]
    assert pick.reasons[0].en == "comic film for a joyful mood"


def _logged(result):
    recommendation = Recommendation.objects.get(pk=result.request_id)
    items = sorted(recommendation.items.values_list("item_id", "kind", "rank", "score", "in_playlist"))
    return recommendation, items


def test_the_log_is_the_same_on_databases_without_the_one_statement_insert(taxonomy, shop, monkeypatch):
    genres, moods = taxonomy
    _catalogue(shop, genres, 12)
    profile = ProfileFactory()
    postgres = ask(moods["joyful"], minutes=30, profile=profile, limit=4)
    monkeypatch.setattr(connection, "vendor", "sqlite")  # the portable path: ORM inserts in a transaction
    portable = ask(moods["joyful"], minutes=30, profile=profile, limit=4)
    first, first_items = _logged(postgres)
    second, second_items = _logged(portable)
    assert first_items == second_items and len(first_items) > 4
    assert any(in_playlist for *_rest, in_playlist in first_items)
    for logged in (first, second):
        assert logged.profile == profile and logged.mood == moods["joyful"] and logged.minutes == 30
        assert logged.kinds == ["film", "book", "track"] and logged.strategy == "heuristic" and logged.channel == "api"
        assert logged.created_at is not None


def test_a_request_without_picks_is_logged_too(taxonomy, shop):
    genres, moods = taxonomy
    make_item(shop, [genres[("film", "comedy")]], title="Long", length_minutes=150)
    result = ask(moods["joyful"], minutes=5, kinds=("film",))
    logged, items = _logged(result)
    assert result.results["film"] == [] and items == []
    assert logged.minutes == 5 and logged.kinds == ["film"]


def test_top_positions_are_best_first_and_ties_go_to_the_lower_rows():
    score = np.array([1.0, 5.0, 3.0, 5.0, -np.inf, 3.0, 3.0, 2.0], dtype=np.float32)
    assert top_positions(score, 3).tolist() == [1, 3, 2]
    assert top_positions(score, 4).tolist() == [1, 3, 2, 5]
    assert top_positions(score, 20).tolist() == [1, 3, 2, 5, 6, 7, 0]
    assert top_positions(np.full(4, -np.inf, dtype=np.float32), 2).tolist() == []


def test_the_first_warmup_film_is_what_people_who_chose_the_same_genres_know(taxonomy, shop, settings):
    # Two comedies of the same genres (the genre fit cannot decide); "Everyone's" is known by more people,
    # but the stored users who chose Horror, besides Comedy, know "Horror fans'".
    from recommender.selectors import warmup_card

    settings.RECOMMENDER_COLLAB_MIN_RATINGS = 10
    genres, _moods = taxonomy
    comedy, horror = genres[("film", "comedy")], genres[("film", "horror")]
    everyones = make_item(shop, [comedy], title="Everyone's", votes=5000)
    fans = make_item(shop, [comedy], title="Horror fans'", votes=100)
    for chose, item, count in (([comedy], everyones, 8), ([comedy, horror], fans, 5)):
        for _ in range(count):
            other = ProfileFactory()
            other.genres.set(chose)
            RatingFactory(profile=other, item=item, value=Rating.Value.LIKE)
    me = ProfileFactory()
    me.genres.set([comedy, horror])
    assert warmup_card(profile=me, asked_item_ids=[], kinds=("film",)) == fans.pk
    someone = ProfileFactory()
    someone.genres.set([comedy])
    assert warmup_card(profile=someone, asked_item_ids=[], kinds=("film",)) == everyones.pk
