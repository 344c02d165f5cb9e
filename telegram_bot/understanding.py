"""What a typed message means: a mood (from the moods' words and phrases) and an amount of free time.

Rules and data of our own, no language service. A message is lower-cased (ё read as е), cut into
words, numbers and emoji, and each word reduced to its Snowball stem (Russian or English by its
letters), with doubled letters squeezed ("грусссно", "sadd"). A mood phrase matches a run of the
message's words when each phrase word's stem begins the message word's stem ("груст" finds
"грустного") or, for stems of five letters and more, differs from it by one letter (a typo:
"грусно", "спакойное"). A phrase right after a negation ("не грустно", "ничего страшного", "not
sad") does not count. When several moods match, the one with the most matched words wins, then the
one mentioned first.

Time: "15 минут", "минут 20", "полчаса", "час", "полтора часа", "2,5 ч", "1:30", "1h30", "пара
часов", "два часа", "90 min", "an hour and a half", "a couple of hours", "2 hours and 30 minutes";
a range ("20-30 минут") counts as its lower end (what surely fits); with no amount given, "на вечер",
"весь вечер", "all evening", "tonight" count as an evening of about three hours. "90-е" / "90s"
are decades, not minutes.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from catalog.models import Mood

EVENING_MINUTES = 180
MIN_MINUTES, MAX_MINUTES = 5, 24 * 60
NEGATIONS = {"не", "нет", "ни", "ничего", "без", "not", "no", "nothing", "dont", "don't", "never", "without", "isnt",
             "isn't"}
NEGATION_REACH = 2  # a negation counts for the next two words ("не очень грустно", "not too scary")

_STEMMERS = {"ru": snowballstemmer.stemmer("russian"), "en": snowballstemmer.stemmer("english")}
_TOKEN = re.compile(r"\d+(?:[.,:]\d+)?|[a-zа-я]+(?:['’][a-z]+)?|[.,!?;:]+|[^\w\s()\"«»\-–—/]", re.IGNORECASE)
_BOUNDARY = re.compile(r"^[.,!?;:]+$")  # a negation does not reach past it: "нет, хочу драйва"
_CYRILLIC = re.compile(r"[а-я]")


@dataclass(frozen=True)
class Understood:
    mood: Mood | None
    minutes: int | None


def understand(text: str, moods: list[Mood]) -> Understood:
    """The mood and the minutes in `text`; `moods` come with their phrases prefetched."""
    normal = normalize(text)
    return Understood(mood=mood_find(normal, moods), minutes=minutes_find(normal))


def normalize(text: str) -> str:
    text = (text or "").lower().replace("ё", "е").replace("\ufe0f", "").replace("’", "'")
    return " ".join(text.split())


# --- mood -----------------------------------------------------------------------------------
def mood_find(normal: str, moods: list[Mood]) -> Mood | None:
    words = [_stem(token) for token in _TOKEN.findall(normal)]
    negated = _negated_positions(words)
    best: tuple[int, int, Mood] | None = None  # (-matched words, first position, mood)
    for mood in moods:
        matched, first = 0, len(words)
        for phrase in mood.phrases.all():
            for start in _phrase_starts(words, _phrase_stems(phrase.text)):
                if start in negated:
                    continue
                matched += len(_phrase_stems(phrase.text))
                first = min(first, start)
        if matched and (best is None or (-matched, first) < best[:2]):
            best = (-matched, first, mood)
    return best[2] if best else None


@lru_cache(maxsize=4096)
def _phrase_stems(text: str) -> tuple[str, ...]:
    return tuple(_stem(token) for token in _TOKEN.findall(normalize(text)))


def _stem(token: str) -> str:
    if not token[0].isalpha():  # numbers, emoji and punctuation stay as they are
        return token
    language = "ru" if _CYRILLIC.search(token) else "en"
    stem = _STEMMERS[language].stemWord(token.replace("'", ""))
    return re.sub(r"(.)\1+", r"\1", stem)


def _negated_positions(words: list[str]) -> set[int]:
    negated = set()
    for position, word in enumerate(words):
        if word in _NEGATION_STEMS:
            for reach in range(position + 1, min(len(words), position + 1 + NEGATION_REACH)):
                if _BOUNDARY.match(words[reach]):
                    break
                negated.add(reach)
    return negated


def _phrase_starts(words: list[str], phrase: tuple[str, ...]) -> list[int]:
    if not phrase:
        return []
    return [start for start in range(len(words) - len(phrase) + 1)
            if all(_word_matches(words[start + i], stem) for i, stem in enumerate(phrase))]


def _word_matches(word: str, stem: str) -> bool:
    if word.startswith(stem) and (len(stem) >= 4 or word == stem):
        return True
    return len(stem) >= 5 and _one_edit_apart(word[:len(stem)], stem) and abs(len(word) - len(stem)) <= 2


def _one_edit_apart(a: str, b: str) -> bool:
    """At most one substitution, insertion or deletion between `a` and `b`."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


_NEGATION_STEMS = {_stem(word) for word in NEGATIONS}


# --- time -----------------------------------------------------------------------------------
_NUMBER_WORDS = {
    "один": 1, "одна": 1, "одну": 1, "одного": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6,
    "семь": 7, "восемь": 8, "девять": 9, "десять": 10, "пятнадцать": 15, "двадцать": 20, "тридцать": 30,
    "сорок": 40, "пятьдесят": 50, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "ninety": 90,
}
# The time is read with doubled letters squeezed: "three" is looked up as "thre" too.
_NUMBER_WORDS.update({re.sub(r"(.)\1+", r"\1", word): value for word, value in list(_NUMBER_WORDS.items())})
_NUM = r"(\d+(?:[.,]\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_HOUR = r"(?:час(?:а|ов|ик|ика|иков|ок|ка)?|ч|h|hr|hrs|hour|hours)"
_MINUTE = r"(?:минут(?:а|ы|ок|ки)?|минуток|мин|м|min|mins|minute|minutes|m)"
_B = r"(?<![\w.,])"  # a number starts at a word boundary
_E = r"(?![\w])"
_DECADE = re.compile(r"\b\d{2}(?:-?(?:е|х|ых|ые|м|ым)|'?s)\b")

_PATTERNS: list[tuple[re.Pattern, object]] = [
    # 1:30
    (re.compile(_B + r"(\d{1,2}):(\d{2})" + _E), lambda m: int(m[1]) * 60 + int(m[2])),
    # 1h30, 1 ч 30 мин, 2 hours and 30 minutes
    (re.compile(_B + _NUM + r"\s*" + _HOUR + r"\.?\s*(?:and\s+|и\s+)?(\d{1,2})\s*(?:" + _MINUTE + r")?" + _E),
     lambda m: _number(m[1]) * 60 + int(m[2])),
    # "an hour and a half", "one and a half hours", "полтора часа", "полтора"
    (re.compile(r"\b(?:an?|one)\s+hour\s+and\s+a\s+half\b|\b(?:one\s+and\s+a\s+half|1\.5)\s+hours?\b|"
                r"\bполтора(?:\s+" + _HOUR + r")?" + _E), lambda m: 90),
    # "два с половиной часа", "two and a half hours"
    (re.compile(_B + _NUM + r"\s+(?:с\s+половиной\s+" + _HOUR + r"|and\s+a\s+half\s+(?:hours|hrs|h)\b)"),
     lambda m: _number(m[1]) * 60 + 30),
    # "полчаса", "пол часа", "half an hour"
    (re.compile(r"\bпол\s*-?\s*час(?:а|ика)?\b|\bhalf\s+(?:an\s+)?hour\b"), lambda m: 30),
    # "пара часов", "пару часиков", "a couple of hours", "couple hours"
    (re.compile(r"\bпар[ауые]\s+час\w*|\b(?:a\s+)?couple\s+(?:of\s+)?(?:hours|hrs|h)\b"), lambda m: 120),
    # 20-30 минут: the lower end
    (re.compile(_B + r"(\d+)\s*[-–—]\s*\d+\s*" + _MINUTE + _E), lambda m: int(m[1])),
    (re.compile(_B + r"(\d+(?:[.,]\d+)?)\s*[-–—]\s*\d+(?:[.,]\d+)?\s*" + _HOUR + _E), lambda m: _number(m[1]) * 60),
    # 2 часа, 1,5 h, two hours, 2h
    (re.compile(_B + _NUM + r"\s*-?\s*" + _HOUR + _E), lambda m: _number(m[1]) * 60),
    # 45 минут, 45min, десять минут
    (re.compile(_B + _NUM + r"\s*-?\s*" + _MINUTE + _E), lambda m: _number(m[1])),
    # "часа 2", "часа на два", "часа полтора" (Russian "about N hours")
    (re.compile(r"\bчаса\s+(?:на\s+)?" + _NUM + _E), lambda m: _number(m[1]) * 60),
    (re.compile(r"\bчаса\s+полтора\b"), lambda m: 90),
    # "минут 20", "минут на сорок"
    (re.compile(r"\b" + _MINUTE + r"\s+(?:на\s+)?" + _NUM + _E), lambda m: _number(m[1])),
    # "час", "часик", "an hour"
    (re.compile(r"\b(?:час|часик|часок|часочек)\b|\b(?:an|one)\s+hour\b|\bhour\b"), lambda m: 60),
]
_EVENING = re.compile(r"\bвечер\w*|\bevening\b|\btonight\b")
_BARE_NUMBER = re.compile(r"^\s*(\d{1,4})\s*[!.?]*\s*$")


def minutes_find(normal: str) -> int | None:
    """The free time written in `normal` (a normalised message), in minutes, or None."""
    # Doubled letters squeezed, as for moods ("паара часов", "hourss"); digits are left alone.
    text = re.sub(r"([a-zа-я])\1+", r"\1", _DECADE.sub(" ", normal))
    for pattern, value in _PATTERNS:
        match = pattern.search(text)
        if match:
            minutes = value(match)
            if minutes is None:
                continue
            return _in_range(minutes)
    if _EVENING.search(text):
        return EVENING_MINUTES
    bare = _BARE_NUMBER.match(text)
    if bare:  # a number alone ("45", "45!") is minutes, as on the time screen
        return _in_range(int(bare[1]))
    return None


def _number(word: str) -> float:
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    return float(word.replace(",", "."))


def _in_range(minutes: float) -> int | None:
    minutes = round(minutes)
    return minutes if MIN_MINUTES <= minutes <= MAX_MINUTES else None

