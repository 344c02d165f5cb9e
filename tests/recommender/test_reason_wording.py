"""The mood reasons read grammatically in both languages for every mood of the fixtures."""

import json
from pathlib import Path

import pytest

from recommender.reasons import for_mood_en, for_mood_ru

MOODS = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "moods.json").read_text())["moods"]


@pytest.mark.parametrize("ru, en, phrase_ru, phrase_en", [
    ("Радостное", "Joyful", "под радостное настроение", "for a joyful mood"),
    ("Энергичное", "Energetic", "под энергичное настроение", "for an energetic mood"),
    ("Ностальгия", "Nostalgic", "под ностальгию", "for a nostalgic mood"),
    ("Хочу драйва", "Thrills", ", когда хочется драйва", "for thrills"),
    ("Хочу отвлечься", "Unwind", ", когда хочется отвлечься", "to unwind"),
])
def test_mood_phrases(ru, en, phrase_ru, phrase_en):
    assert for_mood_ru(ru) == phrase_ru
    assert for_mood_en(en) == phrase_en


def test_every_fixture_mood_has_a_phrase_without_its_bare_name():
    for mood in MOODS:
        assert "«" not in for_mood_ru(mood["ru"]), mood["ru"]  # the name agrees with the sentence, not quoted
        assert for_mood_en(mood["en"]).split()[0] in ("for", "to")
