"""Search: mood → time (buttons or typed minutes) → cards (films, music, books) → More options / New search.

People may also just write ("грустно, пара часов", "something upbeat for 20 minutes"): both the
mood and the time found → the search at once, under a line saying what was understood; one of them
→ the question for the other, with the usual buttons; neither → a short help with the mood buttons.

Cards come from the recommender in process. Each card carries Like / Don't know / Dislike
(ratings with source "search"; the pressed one is marked, another press changes it) and one
URL button per offer, pointing at the offer's tracked /go/ link.
"""

import secrets

from django.db.models import prefetch_related_objects
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from catalog.models import Kind, Mood
from recommender.services import recommend
from recommender.types import ItemPick, Playlist, RecommendationRequest, RecommendationResult
from users.models import Rating
from users.services import rating_record

from .. import selectors
from ..bot_api import BotApiError, EditFailed
from ..cards import KIND_ICONS, card_text, mark_rating, rating_row, save_row, shop_rows, titles
from ..conversation import StaleButton, Turn, int_arg, on_callback, on_command, on_text, on_words
from ..formatting import MESSAGE_LIMIT, cut, esc, join_within
from ..texts import duration
from ..understanding import MAX_MINUTES, MIN_MINUTES, understand
from .main import CB_MAIN
from .saved import CB_SAVE

MOOD_SCREEN, TIME_SCREEN, RESULTS_SCREEN = "search_mood", "search_time", "search_results"
CB_SEARCH, CB_MOOD, CB_TIME, CB_MORE, CB_RATE = "s", "sm", "st", "mo", "rt"
TIME_CHOICES = (15, 30, 60, 120, 180)  # the last one is labelled "3 h or more"
CARDS_PER_KIND = 2  # six cards and a playlist fit on a phone screen or two
RESULT_ORDER = (Kind.FILM, Kind.TRACK, Kind.BOOK)
PLAYLIST_BUTTONS = 5
MOOD_COLUMNS = 2


# --- mood -----------------------------------------------------------------------------------
def ask_mood(turn: Turn, *, edit: bool, minutes: int | None = None, text: str | None = None) -> None:
    """The mood buttons; with `minutes` already known (typed), a mood tapped searches at once."""
    buttons = [InlineKeyboardButton(_mood_label(turn, mood), callback_data=f"{CB_TIME}:{mood.pk}:{minutes}"
                                    if minutes else f"{CB_MOOD}:{mood.pk}")
               for mood in selectors.active_moods()]
    rows = [buttons[i:i + MOOD_COLUMNS] for i in range(0, len(buttons), MOOD_COLUMNS)]
    markup = InlineKeyboardMarkup(rows)
    text = text or turn.t("mood_q")
    prompt = turn.edit(text, markup) if edit else turn.send(text, markup)
    turn.go(MOOD_SCREEN, **({"minutes": minutes, "prompt": prompt} if minutes else {}))


@on_command("search")
def search_command(turn: Turn) -> None:
    """/search: the mood question."""
    ask_mood(turn, edit=False)


@on_callback(CB_SEARCH)
def search_button(turn: Turn, args: list[str]) -> None:
    """"Search" / "New search": the mood question (in place of a text message)."""
    turn.answer()
    if turn.message_id == (turn.state.data.get("search") or {}).get("footer"):
        turn.edit_markup(None)  # the old footer's buttons are spent
        ask_mood(turn, edit=False)
    else:
        ask_mood(turn, edit=True)


# --- time -----------------------------------------------------------------------------------
@on_callback(CB_MOOD)
def mood_chosen(turn: Turn, args: list[str]) -> None:
    """A mood tapped: ask for the time in the same message."""
    mood = _mood(args)
    turn.answer()
    ask_time(turn, mood, edit=True)


def ask_time(turn: Turn, mood: Mood, *, edit: bool) -> None:
    buttons = [InlineKeyboardButton(_time_label(turn, minutes), callback_data=f"{CB_TIME}:{mood.pk}:{minutes}")
               for minutes in TIME_CHOICES]
    rows = [buttons[0:2], buttons[2:4], buttons[4:], [InlineKeyboardButton(turn.t("back"), callback_data=CB_SEARCH)]]
    text = turn.t("time_q", mood=esc(_mood_label(turn, mood)), min=MIN_MINUTES, max=MAX_MINUTES)
    prompt = turn.edit(text, InlineKeyboardMarkup(rows)) if edit else turn.send(text, InlineKeyboardMarkup(rows))
    turn.go(TIME_SCREEN, mood=mood.pk, prompt=prompt)


@on_callback(CB_TIME)
def time_chosen(turn: Turn, args: list[str]) -> None:
    """A time button tapped (or a mood button after a typed time): search."""
    mood, minutes = _mood(args), int_arg(args, 1)
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise StaleButton
    turn.answer()
    _search(turn, mood=mood, minutes=minutes, prompt=turn.message_id)


@on_text(TIME_SCREEN)
def time_typed(turn: Turn, text: str) -> None:
    """Text on the time question: a time searches with the chosen mood (or with a mood named beside it);
    a mood alone asks the time for that mood; anything else gets what is valid."""
    understood = understand(text, selectors.moods_with_phrases())
    if understood.minutes is None:
        if understood.mood is not None:  # another mood named: ask the time for that one
            ask_time(turn, understood.mood, edit=False)
        else:
            turn.send(turn.t("time_invalid", min=MIN_MINUTES, max=MAX_MINUTES))
        return
    mood = understood.mood or selectors.mood_get(int(turn.state.data.get("mood") or 0))
    if mood is None:  # the mood was switched off meanwhile
        ask_mood(turn, edit=False, minutes=understood.minutes)
        return
    prompt = turn.state.data.get("prompt") if understood.mood is None else None
    _search(turn, mood=mood, minutes=understood.minutes, prompt=prompt)


@on_words
def words_typed(turn: Turn, text: str) -> None:
    """A message in words on any other screen: search, ask for what is missing, or show what is understood."""
    understood = understand(text, selectors.moods_with_phrases())
    mood, minutes = understood.mood, understood.minutes
    if mood is not None and minutes is None and turn.state.screen == MOOD_SCREEN:
        minutes = turn.state.data.get("minutes")  # the time was typed before, the mood now
    if mood is not None and minutes:
        _search(turn, mood=mood, minutes=int(minutes), prompt=None)
    elif mood is not None:
        ask_time(turn, mood, edit=False)
    elif minutes is not None:
        ask_mood(turn, edit=False, minutes=minutes,
                 text=turn.t("time_q_for_typed", time=_time_label(turn, minutes)))
    else:
        ask_mood(turn, edit=False, text=turn.t("words_help"))


# --- results --------------------------------------------------------------------------------
def _search(turn: Turn, *, mood: Mood, minutes: int, prompt: int | None) -> None:
    """A new search. Its title ("🌧 Грустное · 2 ч", and why a kind is missing) replaces the question
    that was answered, or is sent first when the search came from typed words."""
    result = _recommend(turn, mood=mood, minutes=minutes, shown=[])
    lines = [turn.t("search_summary", mood=esc(_mood_label(turn, mood)), time=_time_label(turn, minutes))]
    lines += [turn.t("empty_kind", icon=KIND_ICONS.get(kind, ""), reason=esc(reason.text(turn.lang), 200))
              for kind, reason in result.empty_reasons.items()]
    title = join_within(lines, MESSAGE_LIMIT)
    edited = False
    if prompt:
        try:
            turn.bot.edit_text(turn.chat_id, prompt, title)  # the question becomes the search's title
            edited = True
        except EditFailed:
            pass
    if not edited:
        turn.send(title)
    _show_results(turn, result, mood=mood, minutes=minutes, shown=[], search_id=secrets.token_hex(4))


@on_callback(CB_MORE)
def more_results(turn: Turn, args: list[str]) -> None:
    """"More options": same mood and time, without what this search already showed."""
    search = turn.state.data.get("search") or {}
    if not args or args[0] != search.get("id"):
        raise StaleButton
    mood = selectors.mood_get(int(search["mood"]))
    if mood is None:
        raise StaleButton
    turn.answer()
    _footer_remove(turn)
    minutes, shown = int(search["minutes"]), list(search["shown"])
    result = _recommend(turn, mood=mood, minutes=minutes, shown=shown)
    _show_results(turn, result, mood=mood, minutes=minutes, shown=shown, search_id=search["id"])


def _footer_remove(turn: Turn) -> None:
    """The spent "What next?" goes, so the new cards follow the earlier ones (falls back to removing its buttons)."""
    try:
        turn.bot.call("deleteMessage", chat_id=turn.chat_id, message_id=turn.message_id)
    except BotApiError:
        turn.edit_markup(None)  # too old to delete (48 h): at least its buttons are spent


def _recommend(turn: Turn, *, mood: Mood, minutes: int, shown: list[int]) -> RecommendationResult:
    return recommend(RecommendationRequest(
        mood=mood, minutes=minutes, profile=turn.profile, limit=CARDS_PER_KIND,
        exclude_item_ids=frozenset(shown), channel="bot",
    ))


def _show_results(turn: Turn, result: RecommendationResult, *, mood: Mood, minutes: int, shown: list[int],
                  search_id: str) -> None:
    new = _send_cards(turn, result)
    lines = []
    rows = []
    if new:
        lines.append(turn.t("results_footer"))
        rows.append([InlineKeyboardButton(turn.t("more_results"), callback_data=f"{CB_MORE}:{search_id}")])
    else:
        lines.append(turn.t("no_more_results" if shown else "nothing_found"))
    rows.append([InlineKeyboardButton(turn.t("new_search"), callback_data=CB_SEARCH),
                 InlineKeyboardButton(turn.t("back"), callback_data=CB_MAIN)])
    footer = turn.send(join_within(lines, MESSAGE_LIMIT), InlineKeyboardMarkup(rows))
    turn.go(RESULTS_SCREEN, search={"id": search_id, "mood": mood.pk, "minutes": minutes, "shown": shown + new,
                                    "footer": footer})


def _send_cards(turn: Turn, result: RecommendationResult) -> list[int]:
    """Send the picks, films then music then books; returns the ids of the items shown."""
    picks = [pick for kind in RESULT_ORDER for pick in result.results.get(kind, [])]
    playlist = result.playlist if result.playlist and result.playlist.items else None
    items = [pick.item for pick in picks] + ([pick.item for pick in playlist.items] if playlist else [])
    prefetch_related_objects(items, "genres")
    saved = selectors.saved_item_ids(profile=turn.profile, item_ids=[pick.item.pk for pick in picks])
    recommendation = result.request_id.hex if result.request_id else ""
    shown: list[int] = []
    for kind in RESULT_ORDER:
        for pick in result.results.get(kind, []):
            _send_card(turn, pick, saved=pick.item.pk in saved, recommendation=recommendation)
            shown.append(pick.item.pk)
        if kind == Kind.TRACK and playlist:
            _send_playlist(turn, playlist)
            shown.extend(pick.item.pk for pick in playlist.items if pick.item.pk not in shown)
    return shown


def _send_card(turn: Turn, pick: ItemPick, *, saved: bool, recommendation: str) -> None:
    text = card_text(pick.item, language=turn.lang, reasons=pick.reasons, offers=pick.offers)
    markup = InlineKeyboardMarkup([rating_row(CB_RATE, pick.item.pk, turn.lang),
                                   save_row(CB_SAVE, pick.item.pk, turn.lang, saved=saved, recommendation=recommendation)]
                                  + shop_rows(pick.offers, turn.lang))
    turn.send_card(text, photo=pick.item.cover_url, markup=markup)


def _send_playlist(turn: Turn, playlist: Playlist) -> None:
    title = turn.t("playlist_title", time=duration(turn.lang, playlist.minutes),
                   total=duration(turn.lang, max(1, round(playlist.total_seconds / 60))))
    lines = [title]
    for number, pick in enumerate(playlist.items, start=1):
        creators = ", ".join(str(name) for name in (pick.item.creators or [])[:2])
        length = f"{pick.item.duration_seconds // 60}:{pick.item.duration_seconds % 60:02d}" \
            if pick.item.duration_seconds else ""
        title = titles(pick.item, turn.lang)[0]
        lines.append(f"{number}. {esc(creators, 80)} — <b>{esc(title, 120)}</b> {length}".strip())
    text = join_within(lines, MESSAGE_LIMIT - 40)
    kept = text.count("\n")
    if kept < len(playlist.items):
        text += "\n" + turn.t("playlist_more", n=len(playlist.items) - kept)
    rows = []
    for number, pick in enumerate(playlist.items[:PLAYLIST_BUTTONS], start=1):
        if pick.offers:
            offer = pick.offers[0]
            rows.append([InlineKeyboardButton(f"▶️ {number}. {cut(titles(pick.item, turn.lang)[0], 40)} · "
                                              f"{cut(offer.partner_name, 20)}",
                                              url=offer.link)])
    turn.send(text, InlineKeyboardMarkup(rows) if rows else None)


# --- ratings on cards -----------------------------------------------------------------------
@on_callback(CB_RATE)
def rate(turn: Turn, args: list[str]) -> None:
    """Like / Don't know / Dislike under a card: store it and mark the pressed button."""
    item_id, value = int_arg(args, 0), int_arg(args, 1)
    if value not in Rating.Value.values or not rating_record(profile=turn.profile, item_id=item_id, value=value,
                                                             source=Rating.Source.SEARCH):
        raise StaleButton
    turn.answer(turn.t("rating_saved"))
    turn.edit_markup(mark_rating(turn.query.message.reply_markup, prefix=CB_RATE, item_id=item_id, value=value,
                                 language=turn.lang))


# --- helpers --------------------------------------------------------------------------------
def _mood(args: list[str]) -> Mood:
    mood = selectors.mood_get(int_arg(args, 0))
    if mood is None:
        raise StaleButton
    return mood


def _mood_label(turn: Turn, mood: Mood) -> str:
    return f"{mood.emoji} {mood.name(turn.lang)}".strip()


def _time_label(turn: Turn, minutes: int) -> str:
    return turn.t("time_more") if minutes == TIME_CHOICES[-1] else duration(turn.lang, minutes)
