"""The typed-message parser against the phrase set (tests/telegram_bot/phrases.tsv) and a few exact cases.

The phrase set was written before the parser's word lists, as people write to a bot; the test
prints the accuracy and lists every miss, and requires ≥ 90% for the mood and ≥ 95% for the time.
"""

from pathlib import Path

import pytest

from telegram_bot.selectors import moods_with_phrases
from telegram_bot.understanding import minutes_find, normalize, understand

from .conftest import load_genres_and_moods

PHRASES = Path(__file__).with_name("phrases.tsv")
HOLDOUT = Path(__file__).with_name("phrases_holdout.tsv")


def phrase_set(path: Path = PHRASES) -> list[tuple[str, str | None, int | None]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        phrase, mood, minutes = line.split("\t")
        rows.append((phrase, None if mood == "-" else mood, None if minutes == "-" else int(minutes)))
    return rows


def test_the_phrase_set_is_large_and_in_both_languages():
    rows = phrase_set()
    assert len(rows) >= 150
    cyrillic = sum(any("а" <= ch <= "я" for ch in phrase.lower()) for phrase, _mood, _minutes in rows)
    assert cyrillic >= 60 and len(rows) - cyrillic >= 60


def accuracy(rows, moods) -> tuple[float, float, list[str]]:
    mood_right = time_right = 0
    misses = []
    for phrase, mood, minutes in rows:
        got = understand(phrase, moods)
        got_mood = got.mood.code if got.mood else None
        mood_right += got_mood == mood
        time_right += got.minutes == minutes
        if got_mood != mood or got.minutes != minutes:
            misses.append(f"  {phrase!r}: mood {got_mood} (expected {mood}), minutes {got.minutes} (expected {minutes})")
    return mood_right / len(rows), time_right / len(rows), misses


def test_phrase_set_accuracy(db, capsys):
    load_genres_and_moods()
    moods = moods_with_phrases()
    rows, holdout = phrase_set(), phrase_set(HOLDOUT)
    mood_accuracy, time_accuracy, misses = accuracy(rows, moods)
    holdout_mood, holdout_time, holdout_misses = accuracy(holdout, moods)
    with capsys.disabled():
        print(f"\nphrase set: {len(rows)} phrases, mood {mood_accuracy:.1%}, time {time_accuracy:.1%}")
        print("\n".join(misses))
        print(f"held-out set (never tuned on): {len(holdout)} phrases, mood {holdout_mood:.1%}, "
              f"time {holdout_time:.1%}")
        print("\n".join(holdout_misses))
    assert mood_accuracy >= 0.90
    assert time_accuracy >= 0.95


@pytest.mark.parametrize("text, minutes", [
    ("15 минут", 15), ("полчаса", 30), ("час", 60), ("полтора часа", 90), ("2 ч", 120), ("пара часов", 120),
    ("на вечер", 180), ("90 min", 90), ("an hour and a half", 90), ("2h", 120), ("all evening", 180),
    ("1 ч 30 мин", 90), ("1:30", 90), ("два с половиной часа", 150), ("20-30 минут", 20), ("45", 45),
    ("скучаю по 90-м", None), ("90s hits", None), ("-5", None), ("25 ч", None), ("4", None), ("abc", None),
])
def test_times(text, minutes):
    assert minutes_find(normalize(text)) == minutes


@pytest.mark.parametrize("text", ["не грустно", "мне совсем не грустно", "not sad", "nothing scary please",
                                  "ничего страшного"])
def test_a_negated_mood_is_not_that_mood(db, text):
    load_genres_and_moods()
    assert understand(text, moods_with_phrases()).mood is None
