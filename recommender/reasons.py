"""Why an item was picked, in Russian and English, from the signals that picked it."""

from __future__ import annotations

import math

import numpy as np

from .index import KindIndex
from .scoring import KindScores
from .signals import FEATURES, KindTaste, MoodProfile
from .types import Reason

MAX_REASONS = 4
GOOD_RATING = 7.0
POPULAR = 70.0
# A long read is "for several evenings" when it needs at least SEVERAL_EVENINGS evenings of reading.
EVENING_MINUTES = 90
SEVERAL_EVENINGS = 2


def duration_ru(minutes: float) -> str:
    minutes = int(round(minutes))
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} ч {rest} мин"
    return f"{hours} ч" if hours else f"{rest} мин"


def duration_en(minutes: float) -> str:
    minutes = int(round(minutes))
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def item_reasons(ix: KindIndex, pos: int, scores: KindScores, *, mood: MoodProfile | None, minutes: int | None,
                 taste: KindTaste, liked_titles: dict[int, str], chosen_genres: set[int]) -> list[Reason]:
    reasons: list[Reason] = []
    item_genres = ix.item_genre_ids(pos)

    if mood is not None and scores.mood is not None:
        reasons.extend(_mood_reasons(ix, pos, scores, mood, item_genres))
    if minutes is not None:
        reason = _time_reason(ix, pos, scores, minutes)
        if reason:
            reasons.append(reason)

    liked_genres = [g for g in item_genres if g in chosen_genres]
    if liked_genres:
        info = ix.genre_info.get(liked_genres[0])
        if info:
            reasons.append(Reason("your_genre", f"ты любишь жанр «{info.name_ru}»", f"you like {info.name_en.lower()}"))
    if scores.features is not None:
        reasons.extend(_taste_reasons(ix, pos, scores, taste, liked_titles))

    rating, votes = ix.rating[pos], ix.votes[pos]
    if not math.isnan(rating) and rating >= GOOD_RATING and votes > 0:
        reasons.append(Reason("top_rated", f"высокий рейтинг: {rating:.1f}".replace(".", ","),
                              f"highly rated: {rating:.1f}"))
    elif ix.popularity_raw[pos] >= POPULAR:
        reasons.append(Reason("popular", "сейчас популярно", "popular right now"))
    return reasons[:MAX_REASONS]


def for_mood_ru(name: str) -> str:
    """"под грустное настроение", "под ностальгию", ", когда хочется драйва": the mood as a Russian phrase.

    Mood names are adjectives agreeing with "настроение" ("Грустное"), a noun ("Ностальгия") or a
    wish ("Хочу драйва"); each takes its own construction, so no reason shows a name in the wrong case.
    """
    lower = name.strip().lower()
    if lower.endswith(("ое", "ее")):
        return f"под {lower} настроение"
    if lower.startswith("хочу "):
        return f", когда хочется {lower[5:]}"
    if lower.endswith("ия"):
        return f"под {lower[:-1]}ю"
    if lower.endswith("а"):
        return f"под {lower[:-1]}у"
    return f"под настроение «{name.strip()}»"


def for_mood_en(name: str) -> str:
    """"for a joyful mood", "for an energetic mood", "for thrills", "to unwind": the mood as an English phrase.

    Mood names are adjectives ("Joyful"), a plural noun ("Thrills") or a verb ("Unwind").
    """
    lower = name.strip().lower()
    if lower.endswith(("ful", "ic", "ive", "ous", "al", "ed", "ing", "calm", "happy", "sad")):
        return f"for {'an' if lower[:1] in 'aeiou' else 'a'} {lower} mood"
    if lower.endswith("s"):
        return f"for {lower}"
    return f"to {lower}"


def _mood_reasons(ix, pos, scores, mood, item_genres) -> list[Reason]:
    out = []
    fit = scores.mood
    mood_ru, mood_en = for_mood_ru(mood.name_ru), for_mood_en(mood.name_en)
    space_ru = "" if mood_ru.startswith(",") else " "
    if fit.audio is not None and fit.in_audio_range is not None and fit.in_audio_range[pos]:
        tempo = ix.tempo[pos]
        if not math.isnan(tempo):
            pace_ru = "бодрый" if tempo >= 110 else "спокойный"
            pace_en = "upbeat" if tempo >= 110 else "calm"
            out.append(Reason("mood_audio", f"{pace_ru} темп ({tempo:.0f} уд/мин){space_ru}{mood_ru}",
                              f"{pace_en} tempo ({tempo:.0f} BPM) {mood_en}"))
        else:
            out.append(Reason("mood_audio", f"звучание{space_ru}{mood_ru}", f"sounds right {mood_en}"))
    weighted = sorted(((mood.genre_weights.get(g, 0.0), g) for g in item_genres), reverse=True)
    if weighted and weighted[0][0] > 0:
        info = ix.genre_info.get(weighted[0][1])
        if info:
            # No verb: "childhood favourites suits" or "комедии подходит" would need number agreement.
            out.append(Reason("mood_genre", f"«{info.name_ru}» — {mood_ru.lstrip(', ')}",
                              f"{info.name_en.lower()} {mood_en}"))
    elif fit.tag[pos] > 0:
        out.append(Reason("mood_tag", f"подходит{space_ru}{mood_ru}", f"just right {mood_en}"))
    return out


def _time_reason(ix, pos, scores, minutes) -> Reason | None:
    length = float(ix.length[pos])
    if math.isnan(length):
        return None
    if ix.kind == "film":
        return Reason("time_fits", f"уложится в твои {duration_ru(minutes)} ({duration_ru(length)})",
                      f"fits your {duration_en(minutes)} ({duration_en(length)})")
    if ix.kind == "book":
        # The reading time is shown exactly as the card shows it (minutes of the same index), so the
        # card and the reason agree; "several evenings" only when the book needs several.
        if scores.time.long_read[pos]:
            if length >= SEVERAL_EVENINGS * EVENING_MINUTES:
                return Reason("several_evenings", f"чтение на несколько вечеров (≈ {duration_ru(length)})",
                              f"a read for several evenings (about {duration_en(length)})")
            sittings = int(math.ceil(length / minutes))
            return Reason("sittings", f"прочитаешь за {sittings} {_plural_ru(sittings, 'заход', 'захода', 'заходов')}"
                                      f" по {duration_ru(minutes)} (≈ {duration_ru(length)})",
                          f"a read of {sittings} sittings of {duration_en(minutes)} (about {duration_en(length)})")
        return Reason("time_fits", f"прочитаешь за {duration_ru(length)}", f"a read of about {duration_en(length)}")
    return None


def _plural_ru(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def _taste_reasons(ix, pos, scores, taste, liked_titles) -> list[Reason]:
    out = []
    features = scores.features
    collab_row = features[FEATURES.index("collab_like")]
    collab = collab_row[pos]
    liked = taste.liked
    if liked.size:
        liked_genres, liked_moods = ix.content_rows(liked)
        own_genres, own_moods = ix.content_rows(np.array([pos]))
        similarity = liked_genres @ own_genres[0] + liked_moods @ own_moods[0]
        best = int(np.argmax(similarity))
        title = liked_titles.get(int(ix.item_ids[liked[best]]))
        if title and similarity[best] >= 0.6:
            out.append(Reason("similar_to_liked", f"похоже на «{title}», что тебе понравилось",
                              f"similar to “{title}”, which you liked"))
    if collab > 0 and collab >= scores.collab_top:
        out.append(Reason("people_like", "нравится людям с похожим вкусом", "liked by people with your taste"))
    return out


def empty_reason(kind: str, minutes: int, *, any_allowed: bool) -> Reason:
    if not any_allowed:
        what_ru = {"film": "ни один фильм не уложится", "book": "нет подходящих книг",
                   "track": "ни один трек не уложится"}[kind]
        what_en = {"film": "no film fits", "book": "no book fits", "track": "no track fits"}[kind]
        return Reason("nothing_fits", f"{what_ru} в {duration_ru(minutes)}", f"{what_en} in {duration_en(minutes)}")
    return Reason("nothing_left", "больше нечего предложить: всё подходящее уже исключено",
                  "nothing else to offer: everything that fits was excluded")
