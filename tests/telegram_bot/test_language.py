"""Language in Settings (stored on the profile, winning over the client's) and titles in the reader's language."""

import json
import re
from pathlib import Path

import pytest

from catalog.models import ContentItem, Kind
from telegram_bot.cards import card_text, titles
from telegram_bot.local_bot_api import plain
from users.models import Profile

from .conftest import buttons
from .test_search import card_calls

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


def test_choosing_english_changes_the_next_screen_and_wins_over_the_client(user, catalogue):
    user.register()
    user.send("/settings")
    user.press("Язык")
    assert plain(user.messages()[-1]["text"]) == "На каком языке говорить?"
    assert [b["text"] for b in buttons(user.messages()[-1])] == ["✓ Русский", "English", "⬅️ Назад"]
    calls = user.press("English")
    assert plain(calls[0].params["text"]) == "I speak English now"
    assert plain(user.messages()[-1]["text"]) == "What would you like to change?"
    assert "🌐 Language: English" in [b["text"] for b in buttons(user.messages()[-1])]
    menu = user.api.calls_of("setMyCommands")[-1].params
    assert menu["scope"] == {"type": "chat", "chat_id": user.id}
    assert [c["description"] for c in menu["commands"]][0] == "Find a film, music and a book"
    profile = Profile.objects.get(telegram_id=user.id)
    assert profile.language == "en" and profile.language_chosen

    # The client still says Russian: the choice wins from now on.
    calls = user.send("/search")
    assert plain(calls[0].text) == "What's your mood?"
    user.press("Joyful")
    cards = card_calls(user.press("3 h or more"))
    assert [b["text"] for b in cards[0].buttons()][:3] == ["👍 Like", "🤷 Don't know", "👎 Dislike"]
    assert "Why:" in plain(cards[0].text)


def test_until_chosen_the_language_follows_the_client(user, catalogue):
    user.register()
    user.user["language_code"] = "en"
    assert plain(user.send("/search")[0].text) == "What's your mood?"
    profile = Profile.objects.get(telegram_id=user.id)
    assert profile.language == "en" and not profile.language_chosen


def test_an_english_reader_sees_english_titles(english_user, catalogue):
    for item in catalogue:  # the catalogue's titles are Russian; English ones are set for half the items
        item.title = f"Русское название {item.pk}"
        item.original_title = f"Оригинал {item.pk}" if item.pk % 2 else ""
        item.title_en = f"English title {item.pk}"
        item.save(update_fields=["title", "original_title", "title_en"])
    english_user.register()
    english_user.send("/search")
    english_user.press("Joyful")
    cards = card_calls(english_user.press("3 h or more"))
    assert cards
    for call in cards:
        item_id = int(call.buttons()[0]["callback_data"].split(":")[1])
        lines = plain(call.text).split("\n")
        assert lines[0].endswith(f"English title {item_id} ({ContentItem.objects.get(pk=item_id).year})")
        if ContentItem.objects.get(pk=item_id).kind != Kind.TRACK:  # a track's title is its original
            assert "Русское название" not in plain(call.text), "never the Russian translation for an English reader"


DEMO_ROWS = [(kind, row) for kind, name in ((Kind.FILM, "films"), (Kind.BOOK, "books"), (Kind.TRACK, "tracks"))
             for row in json.loads((DEMO / f"{name}.json").read_text(encoding="utf-8"))["items"]]


def test_no_demo_item_lacks_an_english_title():
    missing = [row["title"] for _kind, row in DEMO_ROWS if not (row.get("title_en") or "").strip()]
    assert not missing
    cyrillic = [row["title_en"] for _kind, row in DEMO_ROWS if CYRILLIC.search(row["title_en"])]
    assert not cyrillic


@pytest.mark.parametrize("title, expected", [("Могила светлячков", "Grave of the Fireflies"),
                                             ("Тайна третьей планеты", "The Mystery of the Third Planet"),
                                             ("Гарри Поттер и философский камень",
                                              "Harry Potter and the Philosopher's Stone")])
def test_known_english_titles(title, expected):
    assert any(row["title"] == title and row["title_en"] == expected for _kind, row in DEMO_ROWS)


def test_an_english_readers_demo_card_never_leads_with_cyrillic():
    for kind, row in DEMO_ROWS:
        item = ContentItem(kind=kind, title=row["title"], original_title=row.get("original_title", ""),
                           title_en=row["title_en"], year=row.get("year"))
        first, second = titles(item, "en")
        assert not CYRILLIC.search(first), row["title"]
        assert second != item.title or item.title == item.original_title or kind == Kind.TRACK, \
            "the Russian translation is never an English reader's second line"
        # A Russian reader still sees the Russian title first.
        assert titles(item, "ru")[0] == row["title"]


def test_the_second_line_only_when_it_adds_something():
    potter = ContentItem(kind=Kind.BOOK, title="Гарри Поттер и философский камень",
                         original_title="Harry Potter and the Philosopher's Stone",
                         title_en="Harry Potter and the Philosopher's Stone")
    assert titles(potter, "en") == ("Harry Potter and the Philosopher's Stone", "")
    fireflies = ContentItem(kind=Kind.FILM, title="Могила светлячков", original_title="Hotaru no haka",
                            title_en="Grave of the Fireflies")
    assert titles(fireflies, "en") == ("Grave of the Fireflies", "Hotaru no haka")
    assert titles(fireflies, "ru") == ("Могила светлячков", "Hotaru no haka")


def test_a_book_card_states_the_recommenders_reading_time_only(db):
    from recommender.types import Reason

    book = ContentItem.objects.create(kind=Kind.BOOK, title="Книга", pages=600, length_minutes=900)
    reason = Reason("several_evenings", "чтение на несколько вечеров (около 15 ч)",
                    "a read for several evenings (about 15 h)")
    text = plain(card_text(book, language="en", reasons=[reason]))
    assert "600 pages" in text and "of reading" not in text and "several evenings (about 15 h)" in text
    assert "of reading" in plain(card_text(book, language="en"))
