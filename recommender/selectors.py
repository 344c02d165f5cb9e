"""Reads for the recommender: which strategy serves a user, the active model, the user's taste, the shown items."""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Prefetch, QuerySet

from catalog.models import ContentItem, Genre, Offer, Partner
from users.models import Profile, Rating

from .collab import collab_index
from .index import CatalogueIndex, catalogue_index
from .models import Experiment, ExperimentVariant, ModelVersion
from .scoring import BASELINE, HEURISTIC, MODEL, POPULARITY, PreferenceModel, Strategy
from .signals import kind_taste
from .types import ALL_KINDS, OfferPick
from .warmup import next_card

_models_lock = threading.Lock()
# Artifacts are immutable once saved, so a process keeps each version it has loaded.
_loaded_models: dict[int, PreferenceModel] = {}


def model_load(version_id: int) -> PreferenceModel:
    with _models_lock:
        model = _loaded_models.get(version_id)
    if model is None:
        artifact = ModelVersion.objects.values_list("artifact", flat=True).get(pk=version_id)
        model = PreferenceModel.from_bytes(artifact)
        with _models_lock:
            _loaded_models[version_id] = model
    return model


@dataclass
class ServingConfig:
    """Which model version is active and which experiment runs: re-read every few seconds, not per request."""

    active: tuple[int, str] | None
    experiment: Experiment | None
    loaded_at: float


_serving_lock = threading.Lock()
_serving: list[ServingConfig] = []


def serving_config() -> ServingConfig:
    """The current config; like the index, a change reaches every process within RECOMMENDER_INDEX_REFRESH_SECONDS."""
    now = time.monotonic()
    with _serving_lock:
        if _serving and now - _serving[0].loaded_at < settings.RECOMMENDER_INDEX_REFRESH_SECONDS:
            return _serving[0]
    active = ModelVersion.objects.filter(is_active=True).values_list("id", "name").first()
    experiment = (
        Experiment.objects.filter(is_active=True)
        .prefetch_related(Prefetch("variants", queryset=ExperimentVariant.objects.select_related("model_version")))
        .order_by("-started_at", "code")
        .first()
    )
    config = ServingConfig(active=active, experiment=experiment, loaded_at=now)
    with _serving_lock:
        _serving[:] = [config]
    return config


def serving_config_clear() -> None:
    with _serving_lock:
        _serving.clear()


def active_model_strategy(config: ServingConfig | None = None) -> Strategy:
    """The promoted ModelVersion, or the hand-set weights until one exists."""
    active = (config or serving_config()).active
    if active is None:
        return Strategy(HEURISTIC)
    return Strategy(MODEL, model=model_load(active[0]), model_version_id=active[0], model_version_name=active[1])


@dataclass
class Assignment:
    strategy: Strategy
    experiment: Experiment | None = None
    variant: str = ""


def variant_for(experiment: Experiment, user_key: int) -> ExperimentVariant | None:
    """Sticky: the same user always lands in the same variant (hash of experiment and user)."""
    variants = sorted(experiment.variants.all(), key=lambda v: v.code)
    total = sum(v.weight for v in variants)
    if not total:
        return None
    digest = hashlib.sha256(f"{experiment.code}:{user_key}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % total
    for variant in variants:
        if point < variant.weight:
            return variant
        point -= variant.weight
    return None


def strategy_assign(profile: Profile | None) -> Assignment:
    """The strategy for this request: the user's experiment variant, else the default (model or hand-set)."""
    config = serving_config()
    default = active_model_strategy(config)
    experiment = config.experiment
    if experiment is None or profile is None:
        return Assignment(default)
    variant = variant_for(experiment, profile.pk)
    if variant is None:
        return Assignment(default)
    if variant.strategy in (BASELINE, POPULARITY, HEURISTIC):
        strategy = Strategy(variant.strategy)
    elif variant.model_version_id:
        strategy = Strategy(MODEL, model=model_load(variant.model_version_id), model_version_id=variant.model_version_id,
                            model_version_name=variant.model_version.name)
    else:
        strategy = default
    return Assignment(strategy, experiment=experiment, variant=variant.code)


def _per_database_vendor(build):
    """Build once per database vendor (SQL text and converters depend on the backend, not on the
    thread's connection), on the first call with a connection of that vendor."""
    built = {}

    @functools.wraps(build)
    def get(db):
        value = built.get(db.vendor)
        if value is None:
            value = built[db.vendor] = build(db)
        return value
    return get


@dataclass
class UserTaste:
    genre_ids: tuple[int, ...]
    answers: dict[int, int]  # item id -> -1 / 0 / 1
    liked_titles: dict[int, str]


def user_taste(profile: Profile | None, genre_ids: tuple[int, ...] | None) -> UserTaste:
    """Chosen genres (the request's own, else the profile's) and every answer the user gave: one query."""
    if profile is None:
        return UserTaste(tuple(genre_ids or ()), {}, {})
    answers_sql, genres_sql = _taste_sql(connection)
    with connection.cursor() as cursor:
        if genre_ids is None:
            # The profile's genres ride along in the same round trip, as rows without a rating value.
            cursor.execute(answers_sql + genres_sql, [profile.pk, profile.pk])
        else:
            cursor.execute(answers_sql, [profile.pk])
        rows = cursor.fetchall()
    answers, titles, profile_genres = {}, {}, []
    for key, value, title in rows:
        if value is None:
            profile_genres.append(key)
            continue
        answers[key] = value
        if value > 0:
            titles[key] = title
    return UserTaste(tuple(profile_genres if genre_ids is None else genre_ids), answers, titles)


@_per_database_vendor
def _taste_sql(db) -> tuple[str, str]:
    # Written by hand, as `shown_items`: compiling the ORM's UNION cost more CPU (~1.5 ms a request) than running it.
    quote = db.ops.quote_name
    rating, item, chosen = Rating._meta, ContentItem._meta, Profile.genres.through._meta
    answers = (f"SELECT r.{quote(rating.get_field('item').column)}, r.{quote(rating.get_field('value').column)},"
               f" i.{quote(item.get_field('title').column)} FROM {quote(rating.db_table)} r"
               f" JOIN {quote(item.db_table)} i ON i.{quote(item.pk.column)} = r.{quote(rating.get_field('item').column)}"
               f" WHERE r.{quote(rating.get_field('profile').column)} = %s")
    genres = (f" UNION ALL SELECT g.{quote(chosen.get_field('genre').column)}, NULL, ''"
              f" FROM {quote(chosen.db_table)} g WHERE g.{quote(chosen.get_field('profile').column)} = %s")
    return answers, genres


@dataclass
class ShownItem:
    item: ContentItem
    offers: list[OfferPick]  # available ones, cheapest first; the service adds their tracked links


_ITEM_FIELDS = tuple(ContentItem._meta.concrete_fields)
_OFFER_FIELDS = tuple(Offer._meta.get_field(name) for name in ("id", "partner", "price", "currency", "offer_type"))
_PARTNER_FIELDS = tuple(Partner._meta.get_field(name) for name in ("code", "name"))


def shown_items(catalogue: CatalogueIndex, picked: dict[int, tuple[str, int]]) -> dict[int, ShownItem]:
    """The picked items ({item id: (kind, index position)}) with their available offers: one query.

    Genres come from the index the items were picked from (the item's genres of its own kind, as
    scored) and are set as the items' prefetched `genres`, so `item.genres.all()` asks the database
    nothing (here, in the API or in the bot). Item fields and offers are read live.
    """
    if not picked:
        return {}
    db = connections[DEFAULT_DB_ALIAS]  # the thread's own wrapper: no proxy lookup per converted value
    select, order, converters = _shown_items_query(db)
    with db.cursor() as cursor:
        cursor.execute(f"{select} ({', '.join(['%s'] * len(picked))}){order}", list(picked))
        rows = cursor.fetchall()
    width = len(_ITEM_FIELDS)
    names = [f.attname for f in _ITEM_FIELDS]
    shown: dict[int, ShownItem] = {}
    for row in rows:
        if converters:
            row = list(row)
            for i, convert, col in converters:
                row[i] = convert(row[i], col, db)
        entry = shown.get(row[0])
        if entry is None:
            item = ContentItem.from_db(db.alias, names, row[:width])
            kind, pos = picked[item.pk]
            genres = QuerySet(model=Genre)
            genres._result_cache, genres._prefetch_done = catalogue.item_genres(kind, pos), True
            item._prefetched_objects_cache = {"genres": genres}
            entry = shown[item.pk] = ShownItem(item, [])
        if row[width] is not None:
            offer_id, _partner, price, currency, offer_type, partner_code, partner_name = row[width:]
            entry.offers.append(OfferPick(offer_id, partner_code, partner_name, price, currency, offer_type, link=""))
    return shown


@_per_database_vendor
def _shown_items_query(db) -> tuple[str, str, list]:
    """`shown_items`' SQL up to its IN list, its ORDER BY, and the value converters of its columns.

    Written by hand: building this join through the ORM costs more CPU than running it (~1 ms).
    """
    columns = ([f.get_col("i") for f in _ITEM_FIELDS] + [f.get_col("o") for f in _OFFER_FIELDS]
               + [f.get_col("p") for f in _PARTNER_FIELDS])
    quote = db.ops.quote_name
    select = ", ".join(f"{col.alias}.{quote(col.target.column)}" for col in columns)
    item_id, offer_item, available = (quote(ContentItem._meta.pk.column), quote(Offer._meta.get_field("item").column),
                                      quote(Offer._meta.get_field("available").column))
    offer_partner, partner_id = quote(Offer._meta.get_field("partner").column), quote(Partner._meta.pk.column)
    sql = (f"SELECT {select} FROM {quote(ContentItem._meta.db_table)} i"
           f" LEFT JOIN {quote(Offer._meta.db_table)} o ON o.{offer_item} = i.{item_id} AND o.{available}"
           f" LEFT JOIN {quote(Partner._meta.db_table)} p ON p.{partner_id} = o.{offer_partner}"
           f" WHERE i.{item_id} IN")
    order = (f" ORDER BY i.{item_id}, o.{quote(Offer._meta.get_field('price').column)}, p.{quote('name')},"
             f" o.{quote('id')}")
    converters = [(i, convert, col) for i, col in enumerate(columns)
                  for convert in db.ops.get_db_converters(col) + col.get_db_converters(db)]
    return sql, order, converters


def warmup_card(*, profile: Profile, asked_item_ids: list[int], kinds: tuple[str, ...] = ALL_KINDS) -> int | None:
    """The next warm-up card for registration (`warmup.next_card`), or None when nothing is left to ask.

    Kinds take turns in the given order (card i is of kinds[i % len(kinds)], the next kind when that one
    has nothing left); the chosen genres and every answer so far come in one query (`user_taste`).
    """
    catalogue = catalogue_index()
    collab = collab_index()
    taste = user_taste(profile, None)
    asked = set(asked_item_ids)
    for turn in range(len(kinds)):
        kind = kinds[(len(asked_item_ids) + turn) % len(kinds)]
        ix = catalogue.kinds.get(kind)
        if ix is None or not ix.size:
            continue
        kind_collab = collab.kinds.get(kind)
        answered = kind_taste(ix, kind_collab, genre_ids=taste.genre_ids, answers=taste.answers, user_id=profile.pk)
        card = next_card(ix, kind_collab, genre_columns=answered.genre_columns,
                         asked=ix.positions(asked | set(taste.answers)),
                         opinion_positions=answered.answer_positions, opinion_values=answered.answer_values,
                         own_row=answered.own_row)
        if card is not None:
            return int(ix.item_ids[card])
    return None
