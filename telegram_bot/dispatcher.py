"""Handling one Telegram update: de-duplication, per-chat ordering, routing and the one error handler.

Every entry point (the webhook, `runbot`, `chat`) hands the update's JSON to `update_process`.
One database transaction covers an update: it first takes a lock on the chat (a PostgreSQL
advisory lock, so it works before the chat has any row), then records the update id — a
repeat finds it and does nothing — then runs the handler. Updates of one chat therefore run
one after another in arrival order even across gunicorn workers and machines, and their Bot API
calls cannot interleave. A failing handler's writes are rolled back with the transaction; a
second one records the update as processed (so Telegram's retry does nothing), logs the
failure and sends the user a short apology.
"""

import enum
import logging

from django.db import connection, transaction
from django.utils import timezone
from telegram import Update

from moodstream.control_characters import STRIPPED_CHARACTERS
from users.models import Profile
from users.services import profile_follow_client_language, profile_get_or_create_for_telegram

from . import texts
from .bot_api import BotApi, BotApiError, BotBlocked
from .conversation import BEFORE_REGISTRATION, CALLBACKS, COMMANDS, TEXT_INPUT, WORDS, StaleButton, Turn
from .models import ChatState, ProcessedUpdate
from .screens import main, registration

logger = logging.getLogger(__name__)


class InvalidUpdate(ValueError):
    """The payload is not a Telegram update."""


class Outcome(enum.StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    FAILED = "failed"  # the handler raised; logged, the user told, the update not retried



def without_control_chars(value):
    """`value` (decoded JSON) with C0 control characters (NUL, …; not tab or newline), DEL and lone surrogates
    taken out of every string.

    PostgreSQL refuses NUL in text, so a first name with one failed the update (500) and Telegram
    redelivered it forever; no other control character means anything in a name or a message either.
    """
    if isinstance(value, str):
        return STRIPPED_CHARACTERS.sub("", value) if STRIPPED_CHARACTERS.search(value) else value
    if isinstance(value, dict):
        return {without_control_chars(key): without_control_chars(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_control_chars(item) for item in value]
    return value


def update_parse(payload) -> Update:
    """The update in `payload` (decoded JSON, control characters taken out), or InvalidUpdate naming what is wrong."""
    if not isinstance(payload, dict):
        raise InvalidUpdate("the body must be a JSON object")
    payload = without_control_chars(payload)
    update_id = payload.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        raise InvalidUpdate("update_id must be a non-negative integer")
    try:
        return Update.de_json(payload, None)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidUpdate(f"not a Telegram update: {exc!r}") from exc


def update_process(*, payload: dict, bot: BotApi | None = None) -> Outcome:
    """Handle one update exactly once. Raises InvalidUpdate for a payload that is not an update."""
    update = update_parse(payload)
    bot = bot or BotApi()
    chat = update.effective_chat
    chat_id = chat.id if chat is not None else None
    try:
        with transaction.atomic():
            if not _lock_chat_and_mark_processed(chat_id, update.update_id):
                return Outcome.DUPLICATE
            return _dispatch(update, bot)
    except HandlerFailed as failure:
        # Everything the handler wrote is rolled back with the transaction (no savepoint per
        # update: two round trips fewer). The update is recorded again in a new one, so that
        # Telegram's retry does nothing, and the user is told.
        with transaction.atomic():
            if not _lock_chat_and_mark_processed(chat_id, update.update_id):
                return Outcome.DUPLICATE  # another delivery of it got in between and handled it
            return _after_failure(update, bot, failure)


class HandlerFailed(Exception):
    """A handler raised; the update's transaction is to be rolled back and the failure handled after it."""

    def __init__(self, turn: Turn):
        super().__init__(f"update {turn.update.update_id} failed")
        self.turn = turn


def _lock_chat_and_mark_processed(chat_id: int | None, update_id: int) -> bool:
    """Take the chat's lock (held until the transaction ends), then record the update id.

    False when the id was already there (a repeat). On PostgreSQL one statement does both: the
    advisory lock in a subquery the INSERT reads from, so the lock is held before the row is
    written. A later statement of the transaction reads the chat's state with a snapshot taken
    after the lock, so it sees what the chat's previous update committed. SQLite (local use, one
    process) serialises writes itself and only records the id.
    """
    table = connection.ops.quote_name(ProcessedUpdate._meta.db_table)
    values, params = "VALUES (%s, %s)", [update_id, timezone.now()]
    if chat_id is not None and connection.vendor == "postgresql":
        values = "SELECT %s::bigint, %s::timestamptz FROM (SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))) AS chat_lock"
        params.append(f"telegram-chat:{chat_id}")
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (update_id, received_at) {values} "
                       "ON CONFLICT (update_id) DO NOTHING RETURNING update_id", params)
        return cursor.fetchone() is not None


def _dispatch(update: Update, bot: BotApi) -> Outcome:
    chat, user = update.effective_chat, update.effective_user
    if update.my_chat_member is not None:
        _membership_changed(update)
        return Outcome.IGNORED
    # Edited messages, channel posts, inline queries and the like need no answer.
    if (update.message is None and update.callback_query is None) or chat is None or user is None or user.is_bot:
        return Outcome.IGNORED
    if chat.type != chat.PRIVATE:
        return _group_chat(update, bot)

    profile, state = _profile_and_state(update)
    turn = Turn(bot=bot, update=update, profile=profile, state=state)
    before = (state.screen, state.data)
    try:
        _route(turn)
        if (state.screen, state.data) != before:
            state.save(update_fields=["screen", "data", "updated_at"])
    except Exception as exc:
        raise HandlerFailed(turn) from exc
    _answer_callback(turn)
    return Outcome.HANDLED


def _after_failure(update: Update, bot: BotApi, failure: HandlerFailed) -> Outcome:
    """In a new transaction: a user who blocked the bot is marked inactive; otherwise log, apologise, answer."""
    profile, state = _profile_and_state(update)
    turn = Turn(bot=bot, update=update, profile=profile, state=state)
    turn.answered = failure.turn.answered
    if isinstance(failure.__cause__, BotBlocked):
        Profile.objects.filter(pk=profile.pk).update(is_active=False)
        return Outcome.HANDLED
    logger.error("Telegram update %s failed (chat %s)", update.update_id, turn.chat_id, exc_info=failure.__cause__)
    _apologise(turn)
    _answer_callback(turn)
    return Outcome.FAILED


def _answer_callback(turn: Turn) -> None:
    try:
        turn.answer()  # every callback query is answered, whatever happened
    except BotApiError:
        logger.warning("Could not answer the callback of update %s", turn.update.update_id)


def _route(turn: Turn) -> None:
    done = turn.profile.onboarding == Profile.Onboarding.DONE
    query, message = turn.query, turn.update.message
    if query is not None:
        name, *args = (query.data or "").split(":")
        handler = CALLBACKS.get(name)
        try:
            if handler is None:
                raise StaleButton
            if not done and handler not in BEFORE_REGISTRATION:
                turn.answer()
                registration.resume(turn, note=True)
                return
            handler(turn, args)
        except StaleButton:
            _stale(turn)
        return

    text = (message.text or "").strip()
    if text.startswith("/"):
        command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
        handler = COMMANDS.get(command)
        if handler is None:
            turn.send(turn.t("help"))
        elif not done and handler not in BEFORE_REGISTRATION:
            registration.resume(turn, note=True)
        else:
            handler(turn)
        return
    if text and turn.state.screen in TEXT_INPUT:
        TEXT_INPUT[turn.state.screen](turn, text)
    elif not done:
        registration.resume(turn, note=True)
    elif text and WORDS:
        WORDS[0](turn, text)  # people write "грустно, пара часов" instead of pressing buttons
    else:
        # Stickers, photos, voice: say what the bot understands.
        turn.send(turn.t("help"), main.keyboard(turn))


def _stale(turn: Turn) -> None:
    turn.answer(turn.t("stale_toast"))
    if turn.profile.onboarding != Profile.Onboarding.DONE:
        registration.resume(turn, note=True)
        return
    turn.send(turn.t("stale"))
    main.show(turn)


def _apologise(turn: Turn) -> None:
    try:
        turn.answer()
        turn.send(turn.t("error"))
    except BotApiError:
        logger.warning("Could not tell chat %s about the failure", turn.chat_id)


def _profile_and_state(update: Update) -> tuple[Profile, ChatState]:
    chat, user = update.effective_chat, update.effective_user
    state = ChatState.objects.select_related("profile").filter(chat_id=chat.id).first()
    if state is None:
        profile, _created = profile_get_or_create_for_telegram(
            telegram_id=user.id, first_name=user.first_name or "", username=user.username or "",
            language_code=user.language_code,
        )
        state, _created = ChatState.objects.get_or_create(chat_id=chat.id, defaults={"profile": profile,
                                                                                      "screen": "new"})
        state.profile = profile
    profile = state.profile
    profile_follow_client_language(profile=profile, language_code=user.language_code)
    if not profile.is_active:
        # They wrote to us again, so they unblocked the bot.
        profile.is_active = True
        profile.save(update_fields=["is_active", "updated_at"])
    return profile, state


def _membership_changed(update: Update) -> None:
    change = update.my_chat_member
    if change.chat.type != change.chat.PRIVATE:
        return
    status = change.new_chat_member.status
    if status in ("kicked", "member"):
        Profile.objects.filter(telegram_id=change.from_user.id).update(is_active=status == "member")


def _group_chat(update: Update, bot: BotApi) -> Outcome:
    language = "en" if (update.effective_user.language_code or "").startswith("en") else "ru"
    try:
        if update.callback_query is not None:
            bot.answer_callback(update.callback_query.id)
        elif (update.message.text or "").startswith("/"):
            bot.send_message(update.effective_chat.id, texts.t(language, "private_only"))
    except BotApiError:
        logger.info("Could not answer in group chat %s", update.effective_chat.id)
    return Outcome.IGNORED
