"""Registration on /start: greeting, film / music / book genres (one message edited in place), warm-up cards.

The warm-up shows well-known items one at a time with Like / Don't know / Dislike; the answers
are stored as ratings with source "onboarding". Where the user is lives in Profile.onboarding
and ChatState (screen + data), so any process continues the conversation.
"""

from telegram import InlineKeyboardMarkup

from recommender.selectors import warmup_card

from users.models import Profile, Rating
from users.services import rating_record

from .. import selectors
from ..cards import card_text, mark_rating, rating_row
from ..conversation import StaleButton, Turn, int_arg, on_callback, on_command
from ..formatting import esc
from . import genre_picker, main

GENRES_SCREEN = "reg_genres"
WARMUP_SCREEN = "warmup"
WARMUP_CARDS = 9
CB_TOGGLE, CB_DONE, CB_WARMUP = "rg", "rd", "w"
KINDS = tuple(str(kind) for kind in selectors.KIND_ORDER)


@on_command("start", before_registration=True)
def start(turn: Turn) -> None:
    """/start: registration for a new user, the main screen for a returning one."""
    if turn.profile.onboarding == Profile.Onboarding.DONE:
        main.show(turn)
    else:
        resume(turn)


def resume(turn: Turn, *, note: bool = False) -> None:
    """Continue registration where this user left it (from the start for a new one)."""
    onboarding = turn.profile.onboarding
    if onboarding == Profile.Onboarding.DONE:
        main.show(turn)
        return
    if onboarding == Profile.Onboarding.NEW:
        _begin(turn)
        return
    if note:
        turn.send(turn.t("finish_registration_first"))
    if onboarding == Profile.Onboarding.GENRES:
        kind = turn.state.data.get("kind") if turn.state.screen == GENRES_SCREEN else None
        _ask_genres(turn, kind if kind in KINDS else KINDS[0], edit=False)
    else:
        data = turn.state.data if turn.state.screen == WARMUP_SCREEN else {}
        items, position = data.get("items") or [], data.get("position", 0)
        if position < len(items):
            _send_card(turn, items, position)
        else:
            _start_warmup(turn)


def _begin(turn: Turn) -> None:
    turn.send(turn.t("greeting", name=esc(turn.profile.first_name or "", 60) or "👋"))
    _set_onboarding(turn, Profile.Onboarding.GENRES)
    _ask_genres(turn, KINDS[0], edit=False)


def _ask_genres(turn: Turn, kind: str, *, edit: bool) -> None:
    text = genre_picker.question(turn, kind, step=KINDS.index(kind) + 1)
    markup = _genre_keyboard(turn, kind)
    if edit:
        turn.edit(text, markup)
    else:
        turn.send(text, markup)
    turn.go(GENRES_SCREEN, kind=kind)


def _genre_keyboard(turn: Turn, kind: str) -> InlineKeyboardMarkup:
    return genre_picker.keyboard(turn, kind, toggle_prefix=CB_TOGGLE, done_data=f"{CB_DONE}:{kind}",
                                 done_label=turn.t("genres_done"))


@on_callback(CB_TOGGLE, before_registration=True)
def toggle_genre(turn: Turn, args: list[str]) -> None:
    """A genre tapped: mark or unmark it, redraw the buttons of the same message."""
    if turn.profile.onboarding != Profile.Onboarding.GENRES:
        raise StaleButton
    genre = genre_picker.toggle(turn, args)
    turn.answer()
    turn.edit_markup(_genre_keyboard(turn, genre.kind))


@on_callback(CB_DONE, before_registration=True)
def genres_done(turn: Turn, args: list[str]) -> None:
    """"Done": the next kind's genres in the same message, then the warm-up."""
    kind = args[0] if args else ""
    if turn.profile.onboarding != Profile.Onboarding.GENRES or kind not in KINDS:
        raise StaleButton
    turn.answer()
    position = KINDS.index(kind)
    if position + 1 < len(KINDS):
        _ask_genres(turn, KINDS[position + 1], edit=True)
        return
    names = selectors.chosen_genre_names(profile=turn.profile, language=turn.lang)
    none = turn.t("genres_none")
    turn.edit(turn.t("genres_summary", **{k: esc(", ".join(names.get(k) or [none]), 600) for k in KINDS}))
    _set_onboarding(turn, Profile.Onboarding.WARMUP)
    _start_warmup(turn)


def _start_warmup(turn: Turn) -> None:
    # The recommender's warm-up picker chooses each card from the genres and the answers so far.
    first = warmup_card(profile=turn.profile, asked_item_ids=[], kinds=KINDS)
    if first is None:  # an empty catalogue: nothing to ask about
        _complete(turn)
        return
    turn.send(turn.t("warmup_intro"))
    _send_card(turn, [first], 0)


def _send_card(turn: Turn, items: list[int], position: int) -> None:
    item = selectors.items_with_genres(item_ids=[items[position]]).get(items[position])
    if item is None:  # removed from the catalogue meanwhile: skip it
        _next_card(turn, items, position)
        return
    header = turn.t("warmup_progress", n=position + 1, total=WARMUP_CARDS)
    turn.send_card(card_text(item, language=turn.lang, header=header), photo=item.cover_url,
                   markup=InlineKeyboardMarkup([rating_row(CB_WARMUP, item.pk, turn.lang)]))
    turn.go(WARMUP_SCREEN, items=items, position=position)


def _next_card(turn: Turn, items: list[int], position: int) -> None:
    if position + 1 >= len(items) and position + 1 < WARMUP_CARDS:
        card = warmup_card(profile=turn.profile, asked_item_ids=items, kinds=KINDS)
        items = items + [card] if card is not None else items
    if position + 1 < len(items):
        _send_card(turn, items, position + 1)
    else:
        _complete(turn)


@on_callback(CB_WARMUP, before_registration=True)
def warmup_answer(turn: Turn, args: list[str]) -> None:
    """Like / Don't know / Dislike on a warm-up card: store it, mark it, show the next card."""
    item_id, value = int_arg(args, 0), int_arg(args, 1)
    if value not in Rating.Value.values or turn.profile.onboarding not in (
            Profile.Onboarding.WARMUP, Profile.Onboarding.DONE):
        raise StaleButton
    if not rating_record(profile=turn.profile, item_id=item_id, value=value, source=Rating.Source.ONBOARDING):
        raise StaleButton
    turn.answer(turn.t("rating_saved"))
    turn.edit_markup(mark_rating(turn.query.message.reply_markup, prefix=CB_WARMUP, item_id=item_id, value=value,
                                 language=turn.lang))
    data = turn.state.data
    if turn.profile.onboarding != Profile.Onboarding.WARMUP or turn.state.screen != WARMUP_SCREEN:
        return  # an earlier card answered again: the answer changes, the flow does not move
    items, position = data.get("items") or [], data.get("position", 0)
    if position < len(items) and items[position] == item_id:
        _next_card(turn, items, position)


def _complete(turn: Turn) -> None:
    _set_onboarding(turn, Profile.Onboarding.DONE)
    turn.send(turn.t("warmup_done"))
    main.show(turn)


def _set_onboarding(turn: Turn, value: str) -> None:
    turn.profile.onboarding = value
    turn.profile.save(update_fields=["onboarding", "updated_at"])
