"""The recommendation REST API as a client application sees it: auth, bad input, profiles, ratings."""

import pytest
from django.core.management import call_command

from catalog.models import Offer
from tests.factories import ProfileFactory
from tracking.links import read_offer_link_token
from users.services import api_key_issue
from users.models import ApiKey, Profile, Rating

from .conftest import make_item

pytestmark = pytest.mark.django_db

URL = "/api/v1/recommendations"


@pytest.fixture
def client(api_client):
    _key, secret = api_key_issue(name="bot")
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return api_client


@pytest.fixture
def catalogue(taxonomy, shop):
    genres, moods = taxonomy
    make_item(shop, [genres[("film", "comedy")]], title="Comedy", length_minutes=95)
    make_item(shop, [genres[("film", "drama")]], title="Drama", length_minutes=110)
    make_item(shop, [genres[("book", "humour")]], kind="book", title="Funny book", pages=150)
    make_item(shop, [genres[("track", "pop")]], kind="track", title="Song", duration_seconds=210, length_minutes=4,
              tempo=120, energy=0.7)
    return genres, moods


def test_recommendations_for_a_known_user(client, catalogue):
    profile = ProfileFactory(telegram_id=42, language="en")
    response = client.post(URL, {"telegram_id": 42, "mood": "joyful", "minutes": 120}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body["results"]) == {"film", "book", "track"}
    film = body["results"]["film"][0]
    assert film["title"] == "Comedy" and film["rank"] == 1
    assert film["reasons"][0]["text"] == "comedy for a joyful mood"
    offer = film["offers"][0]
    assert {"partner", "price", "currency", "offer_type", "link"} <= set(offer)
    # Money travels as an exact decimal string, as in the schema.
    assert offer["price"] == str(Offer.objects.get(pk=offer["offer_id"]).price)
    target = read_offer_link_token(offer["link"].rsplit("/", 1)[1])
    assert str(target.recommendation_id) == body["request_id"] and target.offer_id == offer["offer_id"]
    assert body["strategy"] == "heuristic" and body["variant"] == "" and body["model_version"] is None
    assert body["playlist"]["items"][0]["title"] == "Song"
    assert profile.recommendations.count() == 1


def test_unknown_telegram_id_gets_recommendations_from_the_given_genres(client, catalogue):
    response = client.post(URL, {"telegram_id": 999, "mood": "curious", "minutes": 120, "kinds": ["film"],
                                 "genres": ["film:comedy"]}, format="json")
    assert response.status_code == 200
    assert [i["title"] for i in response.json()["results"]["film"]][0] == "Comedy"
    assert not Profile.objects.filter(telegram_id=999).exists()


def test_a_request_without_a_user_explains_its_picks_in_the_language_the_client_asks_for(client, catalogue):
    payload = {"mood": "joyful", "minutes": 120, "kinds": ["film"], "genres": ["film:comedy"]}
    english = client.post(URL, payload, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["language"] == "en"
    assert english["results"]["film"][0]["reasons"][0]["text"] == "comedy for a joyful mood"
    russian = client.post(URL, payload, format="json", HTTP_ACCEPT_LANGUAGE="ru").json()
    reason = russian["results"]["film"][0]["reasons"][0]
    assert russian["language"] == "ru" and reason["text"] == reason["ru"] != reason["en"]
    # A known user's own language wins over the client's header: the bot speaks to them in it.
    ProfileFactory(telegram_id=7, language="ru")
    theirs = client.post(URL, {**payload, "telegram_id": 7}, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert theirs["language"] == "ru"


def test_no_items_fit_is_an_empty_list_with_a_reason(client, catalogue):
    response = client.post(URL, {"mood": "joyful", "minutes": 5, "kinds": ["film"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["results"]["film"] == []
    assert body["empty_reasons"]["film"]["en"] == "no film fits in 5 min"


@pytest.mark.parametrize("payload, field, message", [
    ({"mood": "sleepy", "minutes": 60}, "mood", "Unknown mood 'sleepy'. Valid moods: joyful, energetic, calm"),
    ({"mood": "joyful", "minutes": 4}, "minutes", "minutes must be an integer from 5 to 1440."),
    ({"mood": "joyful", "minutes": 1441}, "minutes", "minutes must be an integer from 5 to 1440."),
    ({"mood": "joyful", "minutes": "an hour"}, "minutes", "minutes must be an integer from 5 to 1440."),
    ({"mood": "joyful", "minutes": 90.5}, "minutes", "minutes must be an integer from 5 to 1440."),
    ({"mood": "joyful", "minutes": 60, "kinds": ["film", "game"]}, "kinds",
     "Unknown kind(s): game. Valid kinds: film, book, track."),
    ({"mood": "joyful", "minutes": 60, "limit": 0}, "limit", "limit must be an integer from 1 to 10."),
    ({"mood": "joyful", "minutes": 60, "limit": 11}, "limit", "limit must be an integer from 1 to 10."),
    ({"mood": "joyful", "minutes": 60, "genres": ["film:nonsense"]}, "genres", "Unknown genre(s): film:nonsense."),
    ({"minutes": 60}, "mood", "mood is required"),
])
def test_bad_input_is_a_400_naming_the_valid_values(client, catalogue, payload, field, message):
    response = client.post(URL, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == field and message in body["detail"], body
    assert set(body) == {"code", "detail", "field", "errors"}


@pytest.mark.parametrize("header", [None, "Api-Key wrong-key-0123456789", "Bearer something", "Api-Key "])
def test_missing_or_wrong_api_key_is_401(api_client, catalogue, header):
    if header:
        api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.post(URL, {"mood": "joyful", "minutes": 60}, format="json")
    assert response.status_code == 401
    assert "Api-Key" in response.json()["detail"]


def test_revoked_key_is_401(api_client, catalogue):
    key, secret = api_key_issue(name="old")
    ApiKey.objects.filter(pk=key.pk).update(is_active=False)
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert api_client.post(URL, {"mood": "joyful", "minutes": 60}, format="json").status_code == 401


def test_key_is_stored_hashed_and_create_api_key_prints_it_once(api_client, catalogue, capsys):
    call_command("create_api_key", "partner-app")
    secret = capsys.readouterr().out.strip()
    key = ApiKey.objects.get(name="partner-app")
    assert secret not in (key.key_hash, key.prefix) and secret.startswith(key.prefix)
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert api_client.post(URL, {"mood": "joyful", "minutes": 60}, format="json").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_moods_and_genres_are_public(api_client, catalogue):
    moods = api_client.get("/api/v1/moods").json()
    assert [m["code"] for m in moods][:3] == ["joyful", "energetic", "calm"]
    genres = api_client.get("/api/v1/genres", {"kind": "book"}).json()
    assert genres and {g["kind"] for g in genres} == {"book"}
    bad = api_client.get("/api/v1/genres", {"kind": "game"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "kind" and "Valid kinds: film, book, track" in bad.json()["detail"]


def test_profile_genres_can_be_read_and_replaced(client, catalogue):
    assert client.get("/api/v1/users/77/profile").status_code == 404
    response = client.put("/api/v1/users/77/profile", {"genres": {"film": ["drama", "comedy"], "book": []},
                                                       "language": "en"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["genres"] == {"film": ["comedy", "drama"], "book": [], "track": []}
    client.put("/api/v1/users/77/profile", {"genres": {"track": ["pop"]}}, format="json")
    body = client.get("/api/v1/users/77/profile").json()
    assert body["genres"] == {"film": ["comedy", "drama"], "book": [], "track": ["pop"]}
    bad = client.put("/api/v1/users/77/profile", {"genres": {"film": ["nope"], "games": []}}, format="json")
    assert bad.status_code == 400


def test_ratings_are_recorded_and_steer_the_next_picks(client, catalogue, taxonomy, shop):
    genres, _moods = taxonomy
    liked = make_item(shop, [genres[("film", "drama")], genres[("film", "war")]], title="War drama", length_minutes=100)
    response = client.post("/api/v1/users/55/ratings", {"item": liked.pk, "value": "like"}, format="json")
    assert response.status_code == 201
    rating = Rating.objects.get(profile__telegram_id=55, item=liked)
    assert rating.value == Rating.Value.LIKE and rating.source == "api"
    bad = client.post("/api/v1/users/55/ratings", {"item": liked.pk, "value": "love"}, format="json")
    assert bad.status_code == 400 and "like, unknown, dislike" in bad.json()["detail"]
    assert bad.json()["field"] == "value"
    missing = client.post("/api/v1/users/55/ratings", {"item": 10**9, "value": "like"}, format="json")
    assert missing.status_code == 400 and "No item" in missing.json()["detail"]
    assert missing.json()["field"] == "item"


def test_openapi_schema_lists_the_endpoints(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/recommendations", "/api/v1/moods", "/api/v1/genres", "/api/v1/users/{telegram_id}/profile",
                 "/api/v1/users/{telegram_id}/ratings"):
        assert path in text
