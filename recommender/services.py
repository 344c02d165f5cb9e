"""The recommendation service: one entry point for the API, the bot and the evaluation command.

`recommend()` scores every item of each requested kind in one numpy pass over the prepared
index (recommender/index.py), picks the best with the diversity and time rules, logs the
Recommendation with its items, strategy, model version and variant, and returns the picks with
their reasons and tracked offer links. It asks the database a fixed number of queries whatever
the catalogue size (the index itself is rebuilt only when the catalogue changes).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import uuid
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import ContentItem
from tracking.links import offer_link
from users.models import Profile, Rating

from .collab import CollabIndex, collab_index
from .index import catalogue_index
from .learning import ANSWERS_PER_USER, ReplayUser, TrainingGroup, evaluate_strategy, learn_preference_model
from .models import ModelVersion, Recommendation, RecommendationItem
from .reasons import empty_reason, item_reasons
from .references import EASE_FOLDS, SERVING_EASE_ITEMS, attach_ease
from .scoring import BASELINE, MODEL, Strategy, build_playlist, named_weights, pick_diverse, score_kind
from .selectors import active_model_strategy, shown_items, strategy_assign, user_taste
from .signals import KindTaste, MoodProfile, kind_taste
from .types import ItemPick, Playlist, RecommendationRequest, RecommendationResult
from .warmup import next_card

__all__ = ["BASELINE", "model_version_train", "recommend"]


def recommend(request: RecommendationRequest) -> RecommendationResult:
    """Pick items per kind for the request, log the recommendation and return it."""
    profile = request.profile
    language = profile.language if profile else request.language
    catalogue = catalogue_index()
    collab = collab_index()
    assignment = strategy_assign(profile)
    strategy = assignment.strategy
    mood = MoodProfile.from_mood(request.mood, catalogue.mood_weights.get(request.mood.pk, {}))
    taste_data = user_taste(profile, request.genre_ids)
    chosen_genres = set(taste_data.genre_ids)

    chosen: dict[str, list[tuple[int, float, list]]] = {}
    playlist_rows: list[tuple[int, float]] = []
    picked: dict[int, tuple[str, int]] = {}  # item id -> (kind, index position)
    empty = {}
    for kind in request.kinds:
        ix = catalogue.kinds[kind]
        kind_collab = collab.kinds.get(kind)
        taste = kind_taste(ix, kind_collab, genre_ids=taste_data.genre_ids, answers=taste_data.answers,
                           user_id=profile.pk if profile else None)
        scores = score_kind(ix, kind_collab, strategy=strategy, mood=mood, minutes=request.minutes, taste=taste)
        score = scores.score.copy()
        # Items the user already judged, and those this request leaves out, are not offered again.
        score[taste.answer_positions] = -np.inf
        score[ix.positions(request.exclude_item_ids)] = -np.inf
        positions = pick_diverse(ix, score, request.limit)
        chosen[kind] = [
            (int(ix.item_ids[p]), float(score[p]),
             item_reasons(ix, p, scores, mood=mood, minutes=request.minutes, taste=taste,
                          liked_titles=taste_data.liked_titles, chosen_genres=chosen_genres))
            for p in positions
        ]
        picked.update((int(ix.item_ids[p]), (kind, p)) for p in positions)
        if not positions:
            empty[kind] = empty_reason(kind, request.minutes, any_allowed=bool(scores.time.allowed.any()))
        if kind == "track" and positions:
            playlist_positions = build_playlist(ix, score, request.minutes, positions)
            playlist_rows = [(int(ix.item_ids[p]), float(score[p])) for p in playlist_positions]
            picked.update((int(ix.item_ids[p]), (kind, p)) for p in playlist_positions)

    recommendation_id = _log(request, assignment, chosen, playlist_rows)
    items = shown_items(catalogue, picked)

    def pick(item_id, kind, rank, score, reasons):
        shown = items[item_id]
        for offer in shown.offers:
            offer.link = offer_link(recommendation_id=recommendation_id, offer_id=offer.offer_id)
        return ItemPick(item=shown.item, kind=kind, rank=rank, score=round(score, 4), reasons=reasons,
                        offers=shown.offers)

    results = {
        kind: [pick(item_id, kind, rank, score, reasons) for rank, (item_id, score, reasons) in enumerate(rows, 1)]
        for kind, rows in chosen.items()
    }
    playlist = None
    if playlist_rows:
        track_picks = {p.item.pk: p for p in results.get("track", [])}
        entries = [track_picks.get(item_id) or pick(item_id, "track", rank, score, [])
                   for rank, (item_id, score) in enumerate(playlist_rows, 1)]
        total = int(sum(_track_seconds(p.item) for p in entries))
        playlist = Playlist(items=entries, total_seconds=total, minutes=request.minutes)
    return RecommendationResult(
        request_id=recommendation_id, strategy=strategy.name, model_version=strategy.model_version_name,
        variant=assignment.variant, language=language, results=results, playlist=playlist, empty_reasons=empty,
    )


def _track_seconds(item: ContentItem) -> int:
    return item.duration_seconds or (item.length_minutes or 0) * 60


LogRow = tuple[int, str, int, float, bool]  # item id, kind, rank, score, in playlist


def _log(request, assignment, chosen, playlist_rows) -> uuid.UUID:
    """Store the Recommendation and its items; returns its id."""
    strategy = assignment.strategy
    in_playlist = {item_id for item_id, _s in playlist_rows}
    rows: list[LogRow] = []
    seen = set()
    for kind, kind_rows in chosen.items():
        for rank, (item_id, score, _reasons) in enumerate(kind_rows, 1):
            rows.append((item_id, kind, rank, score, item_id in in_playlist))
            seen.add(item_id)
    picked_tracks = len(chosen.get("track", []))
    extra = [(item_id, score) for item_id, score in playlist_rows if item_id not in seen]
    for offset, (item_id, score) in enumerate(extra, 1):
        rows.append((item_id, "track", min(picked_tracks + offset, 32767), score, True))
    recommendation = Recommendation(
        profile=request.profile, mood=request.mood, minutes=request.minutes, kinds=list(request.kinds),
        strategy=strategy.name, model_version_id=strategy.model_version_id, experiment=assignment.experiment,
        variant=assignment.variant, channel=request.channel,
    )
    if connection.vendor == "postgresql":
        _log_insert_one_statement(recommendation, rows)
    else:
        _log_insert_orm(recommendation, rows)
    return recommendation.pk


def _log_insert_orm(recommendation: Recommendation, rows: list[LogRow]) -> None:
    with transaction.atomic():
        recommendation.save(force_insert=True)
        RecommendationItem.objects.bulk_create(
            RecommendationItem(recommendation=recommendation, item_id=item_id, kind=kind, rank=rank, score=score,
                               in_playlist=flag)
            for item_id, kind, rank, score, flag in rows
        )


def _log_insert_one_statement(recommendation: Recommendation, rows: list[LogRow]) -> None:
    """PostgreSQL: the Recommendation and its items in one INSERT statement: one round trip, atomic by
    itself, so no transaction or savepoint around it (the log is written on every request)."""
    fields = Recommendation._meta.concrete_fields
    values = [f.get_db_prep_save(f.pre_save(recommendation, add=True), connection) for f in fields]
    columns = [list(column) for column in zip(*rows)] if rows else [[]] * 5
    with connection.cursor() as cursor:
        cursor.execute(_log_sql(), [*values, recommendation.pk, *columns])
    recommendation._state.adding = False
    recommendation._state.db = connection.alias


@functools.cache
def _log_sql() -> str:
    """The statement of `_log_insert_one_statement` (PostgreSQL only), built once per process."""
    quote = connection.ops.quote_name
    fields = Recommendation._meta.concrete_fields
    item_columns = ", ".join(quote(RecommendationItem._meta.get_field(name).column)
                             for name in ("recommendation", "item", "kind", "rank", "score", "in_playlist"))
    return (f"WITH recommendation AS (INSERT INTO {quote(Recommendation._meta.db_table)}"
            f" ({', '.join(quote(f.column) for f in fields)}) VALUES ({', '.join(['%s'] * len(fields))}))"
            f" INSERT INTO {quote(RecommendationItem._meta.db_table)} ({item_columns})"
            " SELECT %s, * FROM unnest(%s::bigint[], %s::varchar[], %s::smallint[], %s::float8[], %s::boolean[])")


# --- Training ---------------------------------------------------------------------------------

MIN_OPINIONS_PER_USER = 4
MIN_TRAINING_PAIRS = 200
VALIDATION_SHARE = 5  # one user in five is held out to compare the new model with the serving one


@dataclass
class TrainingOutcome:
    version: ModelVersion | None
    promoted: bool
    message: str
    metrics: dict = field(default_factory=dict)


def model_version_train(*, seed: int = 0, name: str | None = None) -> TrainingOutcome:
    """Fit the preference model on stored likes / dislikes; save it; promote it if it beats the serving one.

    Users are split by a hash of their id: four in five train, one in five validates. Each user
    is replayed as the offline evaluation's realistic replay (their genres, the warm-up picker's cards
    answered from their stored ratings, every other opinion held out);
    the new model and the serving strategy (the active version, else the hand-set weights) are
    scored on the validation users, and the new one is promoted only if its mean of ROC AUC and
    NDCG@10 is higher.
    """
    catalogue = catalogue_index()
    collab = collab_index()
    rows = list(Rating.objects.values_list("profile_id", "item_id", "value", "item__kind"))
    chosen_genres: dict[int, list[int]] = {}
    for profile_id, genre_id in Profile.genres.through.objects.values_list("profile_id", "genre_id"):
        chosen_genres.setdefault(profile_id, []).append(genre_id)
    by_user_kind: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for profile_id, item_id, value, kind in rows:
        by_user_kind.setdefault((profile_id, kind), []).append((item_id, value))

    # The stored users' `ease` feature comes from fits without their fold of users (as every other
    # collaborative signal leaves their own ratings out); the serving matrices are not touched.
    collab = CollabIndex(kinds={k: _with_ease_folds(c) for k, c in collab.kinds.items()}, stamp=collab.stamp,
                         built_at=collab.built_at)
    rng = np.random.default_rng(seed)
    train: dict[str, list[ReplayUser]] = {}
    validate: dict[str, list[ReplayUser]] = {}
    for (profile_id, kind), answers in sorted(by_user_kind.items()):
        if kind not in catalogue.kinds:
            continue
        ix, kind_collab = catalogue.kinds[kind], collab.kinds.get(kind)
        user = _replay_stored_user(ix, kind_collab, profile_id, answers, chosen_genres.get(profile_id, []), rng)
        if user is None:
            continue
        holdout = int(hashlib.sha256(f"{seed}:{profile_id}".encode()).hexdigest(), 16) % VALIDATION_SHARE == 0
        (validate if holdout else train).setdefault(kind, []).append(user)

    groups = [TrainingGroup(catalogue.kinds[k], collab.kinds.get(k), users) for k, users in sorted(train.items())]
    learned = learn_preference_model(groups, seed) if groups else None
    pairs = learned.pairs if learned else 0
    if pairs < MIN_TRAINING_PAIRS or not validate:
        return TrainingOutcome(None, False, f"Not enough ratings to train: {pairs} training pairs "
                                            f"(need {MIN_TRAINING_PAIRS}) and {sum(map(len, validate.values()))} "
                                            "validation users (need 1). The hand-set weights keep serving.")
    model = learned.model
    serving = active_model_strategy()
    new_metrics = _validation_metrics(catalogue, collab, validate, Strategy(MODEL, model=model))
    serving_metrics = _validation_metrics(catalogue, collab, validate, serving)
    promoted = new_metrics["combined"] > serving_metrics["combined"]
    with transaction.atomic():
        version = ModelVersion.objects.create(
            name=name or f"pairwise-lr-{timezone.now():%Y%m%d-%H%M%S}-{seed}",
            artifact=model.to_bytes(), features=list(model.features), training_size=int(pairs),
            metrics={"validation": new_metrics, "serving": {"strategy": serving.name,
                                                             "model_version": serving.model_version_name,
                                                             **serving_metrics},
                     "weights": named_weights(model.features, model.weights, 5),
                     "watch_weight": learned.watch_weight,
                     "head_size": learned.head_size,
                     **({"head_weights": named_weights(model.features, model.pick_weights, 5)}
                        if model.pick_weights is not None else {}),
                     **({"cold_watch_weight": learned.cold_watch_weight,
                         "cold_weights": named_weights(model.features, model.cold_weights, 5)}
                        if model.cold_weights is not None else {}),
                     "will_like_weights": named_weights(model.features, learned.like_weights, 5),
                     "will_watch_weights": named_weights(model.features, learned.watch_weights, 5),
                     "watch_weight_choice": {str(k): {m: round(v, 4) for m, v in row.items()}
                                             for k, row in learned.validation.items()},
                     "cold_model_choice": {str(k): {m: round(v, 4) for m, v in row.items()}
                                           for k, row in learned.cold_validation.items()}},
            notes=("Pairwise logistic regressions on the recommender's preference signals: "
                   + (f"will-like, its {learned.head_size} best will-watch items raised by k/(k+1) × "
                      f"{learned.watch_weight} × will-watch above the edge of that head (k: the person's likes "
                      "and dislikes)." if learned.head_size else
                      f"will-like + {learned.watch_weight} × will-watch.")
                   + (f" Before a person's first like or dislike: the cold model, will-like + "
                      f"{learned.cold_watch_weight} × will-watch fitted on training users before any answer."
                      if model.cold_weights is not None else "")),
        )
        if promoted:
            ModelVersion.objects.filter(is_active=True).update(is_active=False)
            version.is_active = True
            version.save(update_fields=["is_active"])
    verdict = "promoted" if promoted else f"kept {serving.model_version_name or serving.name} (it scored as well or better)"
    return TrainingOutcome(version, promoted, f"Trained {version.name} on {pairs} pairs "
                                              f"(will-watch weight {learned.watch_weight}, head "
                                              f"{learned.head_size}): {verdict}.",
                           {"new": new_metrics, "serving": serving_metrics})


def _with_ease_folds(kind_collab):
    copied = copy.copy(kind_collab)
    # The same size as serving's fit (collab.attach_ease), so training features match serving ones.
    attach_ease(copied, folds=EASE_FOLDS, items=SERVING_EASE_ITEMS)
    return copied


def _replay_stored_user(ix, kind_collab, profile_id, answers, genre_ids, rng) -> ReplayUser | None:
    """A stored user replayed as the bot meets a new one (the realistic replay of `evaluate_recommender`):
    their chosen genres, the warm-up picker's cards one at a time, answered from their stored ratings
    (no rating or "don't know" → don't know); every other opinion is held out."""
    opinions = {item_id: value for item_id, value in answers if value}
    item_ids = np.array(sorted(opinions), dtype=np.int64)
    positions = ix.positions(item_ids)
    if positions.size < MIN_OPINIONS_PER_USER:
        return None
    value_at = {int(p): opinions[int(ix.item_ids[p])] for p in positions}
    own_row = kind_collab.row_of(profile_id) if kind_collab else None
    genre_columns = ix.genre_columns(genre_ids)
    asked: list[int] = []
    for _card in range(ANSWERS_PER_USER):
        known = np.array([p for p in asked if p in value_at], dtype=np.int64)
        card = next_card(ix, kind_collab, genre_columns=genre_columns, asked=np.array(asked, dtype=np.int64),
                         opinion_positions=known, opinion_values=np.array([value_at[p] for p in known], dtype=np.int8),
                         own_row=own_row)
        if card is None:
            break
        asked.append(card)
    answered = np.array([p for p in asked if p in value_at], dtype=np.int64)
    held = np.setdiff1d(positions, np.array(asked, dtype=np.int64))
    held_values = np.array([value_at[int(p)] for p in held], dtype=np.int8)
    if not (held_values > 0).any():
        return None
    taste = KindTaste(genre_columns=genre_columns, answer_positions=answered,
                      answer_values=np.array([value_at[int(p)] for p in answered], dtype=np.int8), own_row=own_row)
    return ReplayUser(user_id=profile_id, taste=taste, heldout_positions=held, heldout_liked=held_values > 0,
                      answered_positions=np.array(asked, dtype=np.int64))


def _validation_metrics(catalogue, collab, users_by_kind, strategy) -> dict:
    totals = {"roc_auc": 0.0, "ndcg": 0.0, "map": 0.0}
    weight = 0
    for kind, users in users_by_kind.items():
        summary = evaluate_strategy(catalogue.kinds[kind], collab.kinds.get(kind), users, strategy)
        totals["roc_auc"] += summary.roc_auc * summary.users
        totals["ndcg"] += summary.ndcg * summary.users
        totals["map"] += summary.map * summary.users
        weight += summary.users
    out = {k: round(v / weight, 4) if weight else 0.0 for k, v in totals.items()}
    out["combined"] = round((out["roc_auc"] + out["ndcg"]) / 2, 4)
    out["users"] = weight
    return out
