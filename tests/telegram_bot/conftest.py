"""A fake Bot API on 127.0.0.1, a small catalogue, and a Telegram user who posts real update JSON to the webhook."""

import itertools
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from catalog.demo import mood_phrases_add_missing
from catalog.models import Genre, Kind, Mood, MoodGenreWeight
from recommender.collab import collab_index_clear
from recommender.index import catalogue_index_clear
from telegram_bot.local_bot_api import FakeBotApi, plain
from tests.factories import ContentItemFactory, OfferFactory, PartnerFactory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SECRET = "test-webhook-secret-0123456789"
_update_ids = itertools.count(int(time.time()) % 100000 * 1000)
_user_ids = itertools.count(5_000_001)


@pytest.fixture(autouse=True)
def fresh_recommender_index(settings):
    """The recommender caches its item index per process; each test has its own catalogue."""
    settings.RECOMMENDER_INDEX_REFRESH_SECONDS = 0
    catalogue_index_clear()
    collab_index_clear()
    yield
    catalogue_index_clear()
    collab_index_clear()


@pytest.fixture
def fake_api(settings):
    with FakeBotApi(token="123456:TEST-token") as api:
        settings.TELEGRAM_BOT_TOKEN = api.token
        settings.TELEGRAM_API_BASE_URL = api.base_url
        settings.TELEGRAM_WEBHOOK_SECRET = SECRET
        yield api


def load_genres_and_moods() -> None:
    genres = {}
    for kind, rows in json.loads((FIXTURES / "genres.json").read_text()).items():
        for row in rows:
            genres[(kind, row["code"])], _ = Genre.objects.get_or_create(
                kind=kind, code=row["code"], defaults={"name_ru": row["ru"], "name_en": row["en"]})
    for position, row in enumerate(json.loads((FIXTURES / "moods.json").read_text())["moods"], start=1):
        mood, _ = Mood.objects.get_or_create(code=row["code"], defaults={
            "name_ru": row["ru"], "name_en": row["en"], "emoji": row["emoji"], "position": position,
            "valence": row["valence"], "arousal": row["arousal"], "tempo_min": row["tempo"][0],
            "tempo_max": row["tempo"][1], "energy_min": row["energy"][0], "energy_max": row["energy"][1],
            "mode": row["mode"]})
        for kind, weights in row["genres"].items():
            for code, weight in weights.items():
                MoodGenreWeight.objects.get_or_create(mood=mood, genre=genres[(kind, code)],
                                                      defaults={"weight": weight})
        mood_phrases_add_missing(mood=mood, words=row.get("words") or {})


@pytest.fixture
def catalogue(db):
    """Genres and the ten moods from the fixtures; for every mood's genres a few items per kind, each with an offer."""
    load_genres_and_moods()
    shops = {Kind.FILM: PartnerFactory(code="kinoport", name="Кинопорт"),
             Kind.BOOK: PartnerFactory(code="chitai", name="Читай & Слушай"),
             Kind.TRACK: PartnerFactory(code="zvukplus", name="Звук+")}
    items = []
    number = 0
    for mood in Mood.objects.prefetch_related("genre_weights__genre"):
        for weight in mood.genre_weights.all():
            genre = weight.genre
            number += 1
            fields = {"kind": genre.kind, "title": f"{genre.name_en} {mood.code} {number}", "genres": [genre],
                      "year": 1990 + number % 30, "rating": 6 + (number % 30) / 10, "votes": 1000 * number,
                      "creators": [f"Creator {number}"], "popularity": number % 100}
            if genre.kind == Kind.FILM:
                fields.update(length_minutes=85 + number % 60)
            elif genre.kind == Kind.TRACK:
                fields.update(length_minutes=4, duration_seconds=180 + number % 90, tempo=120, energy=0.6,
                              valence=0.6)
            else:
                fields.update(length_minutes=None, pages=150 + number % 300)
            if number % 2:
                fields["cover_url"] = f"https://covers.example/{number}.jpg"
            item = ContentItemFactory(**fields)
            item.moods.add(mood)
            OfferFactory(partner=shops[genre.kind], item=item, price=Decimal("199.00") + number)
            items.append(item)
    return items


class TelegramUser:
    """Someone writing to the bot: each action posts one update to the webhook and returns the calls it caused."""

    def __init__(self, client, api: FakeBotApi, *, language_code: str = "ru", first_name: str = "Аня",
                 user_id: int | None = None):
        self.client, self.api = client, api
        self.id = user_id or next(_user_ids)
        self.user = {"id": self.id, "is_bot": False, "first_name": first_name, "username": f"user{self.id}",
                     "language_code": language_code}
        self.chat = {"id": self.id, "type": "private", "first_name": first_name}

    # --- sending ---------------------------------------------------------------------------
    def post(self, update: dict, *, secret: str | None = SECRET):
        headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
        return self.client.post(reverse("telegram_bot:webhook"), data=json.dumps(update),
                                content_type="application/json", **headers)

    def message_update(self, text: str | None = None, **extra) -> dict:
        message = {"message_id": next(_update_ids) % 1_000_000, "date": int(time.time()), "from": self.user,
                   "chat": self.chat, **extra}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": next(_update_ids), "message": message}

    def callback_update(self, data: str, message: dict) -> dict:
        return {"update_id": next(_update_ids), "callback_query": {
            "id": f"cq{next(_update_ids)}", "from": self.user, "chat_instance": f"ci{self.id}",
            "message": message, "data": data}}

    def send(self, text: str | None = None, **extra) -> list:
        return self._run(self.message_update(text, **extra))

    def press(self, label: str, *, message: dict | None = None) -> list:
        """Press the newest button whose text contains `label` (in `message` when given)."""
        message = message or self.message_with_button(label)
        data = next(b["callback_data"] for b in _buttons(message) if label in b["text"] and "callback_data" in b)
        return self._run(self.callback_update(data, message))

    def press_data(self, data: str, *, message: dict | None = None) -> list:
        return self._run(self.callback_update(data, message or self.messages()[-1]))

    def _run(self, update: dict) -> list:
        before = len(self.api.calls)
        response = self.post(update)
        assert response.status_code == 200, response.content
        return self.api.calls[before:]

    # --- what the user sees -------------------------------------------------------------------
    def messages(self) -> list[dict]:
        return self.api.chat_messages(self.id)

    def last_text(self) -> str:
        message = self.messages()[-1]
        return plain(message.get("text") or message.get("caption") or "")

    def message_with_button(self, label: str) -> dict:
        for message in reversed(self.messages()):
            if any(label in b["text"] for b in _buttons(message)):
                return message
        raise AssertionError(f"no button {label!r} in {[plain(m.get('text') or m.get('caption') or '') for m in self.messages()]}")

    def register(self, *, genres_per_kind: int = 1) -> None:
        """Walk the whole registration quickly: first genres of each kind, then "Don't know" on every card."""
        self.send("/start")
        for _kind in range(3):
            message = self.messages()[-1]
            for button in _buttons(message)[:genres_per_kind]:
                self.press_data(button["callback_data"], message=message)
            done = next(b for b in _buttons(self.messages()[-1]) if b["callback_data"].startswith("rd:"))
            self.press_data(done["callback_data"], message=self.message(message["message_id"]))
        for _card in range(20):
            message = self.messages()[-1]
            unknown = [b for b in _buttons(message) if b.get("callback_data", "").startswith("w:")]
            if not unknown:
                break
            self.press_data(unknown[1]["callback_data"], message=message)

    def message(self, message_id: int) -> dict:
        return self.api.message(self.id, message_id)


def _buttons(message: dict) -> list[dict]:
    return [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


buttons = _buttons


@pytest.fixture
def user(client, fake_api, db):
    return TelegramUser(client, fake_api)


@pytest.fixture
def english_user(client, fake_api, db):
    return TelegramUser(client, fake_api, language_code="en-GB", first_name="Ann")
