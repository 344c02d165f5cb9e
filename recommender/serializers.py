"""Input and output serializers of the recommendation API. Validation only; no logic."""

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Genre, Kind, Mood
from moodstream.api_input import BIGINT_MAX, BIGINT_MIN
from users.models import Rating

from .types import ALL_KINDS

MIN_MINUTES, MAX_MINUTES = 5, 1440
MIN_LIMIT, MAX_LIMIT = 1, 10
# Lazy: field error messages are built at import time and must speak the request's language.
_MINUTES_RANGE = format_lazy(gettext_lazy("minutes must be an integer from {low} to {high}."), low=MIN_MINUTES,
                             high=MAX_MINUTES)
_LIMIT_RANGE = format_lazy(gettext_lazy("limit must be an integer from {low} to {high}."), low=MIN_LIMIT,
                           high=MAX_LIMIT)
_MINUTES_REQUIRED = format_lazy(gettext_lazy("minutes is required: an integer from {low} to {high}."),
                                low=MIN_MINUTES, high=MAX_MINUTES)
RATING_VALUES = {"like": Rating.Value.LIKE, "unknown": Rating.Value.UNKNOWN, "dislike": Rating.Value.DISLIKE}


class _StrictIntegerField(serializers.IntegerField):
    """An integer, not a float or a numeric string with a fraction (\"90.5\" is refused, not rounded).

    Bounded to a bigint by default: a larger number is a 400 here, not a database error later.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", BIGINT_MIN)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or isinstance(data, float):
            self.fail("invalid")
        return super().to_internal_value(data)


def _unknown_genres(unknown: list[str]) -> str:
    return gettext("Unknown genre(s): %(genres)s. See GET /api/v1/genres?kind=film|book|track.") % {
        "genres": ", ".join(unknown)}


def _unknown_kinds(unknown, valid) -> str:
    return gettext("Unknown kind(s): %(unknown)s. Valid kinds: %(valid)s.") % {
        "unknown": ", ".join(unknown), "valid": ", ".join(valid)}


def _moods_text() -> str:
    return ", ".join(Mood.objects.filter(is_active=True).values_list("code", flat=True))


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}],
                      "description": "A genre id, a code such as 'drama', or 'film:drama'."})
class GenreRefField(serializers.Field):
    """A genre given by id, by code (e.g. "drama", every kind that has it) or by "kind:code"."""

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            return ("id", data)
        if isinstance(data, str) and data.strip():
            kind, _sep, code = data.strip().rpartition(":")
            return ("code", kind, code)
        raise serializers.ValidationError(gettext("A genre is an id or a code such as 'drama' or 'film:drama'."))

    def to_representation(self, value):
        return value


def resolve_genres(refs) -> list[Genre]:
    """Genres for the references; unknown ones raise a ValidationError naming them."""
    if not refs:
        return []
    genres = list(Genre.objects.all())
    by_id = {g.pk: g for g in genres}
    found, unknown = [], []
    for ref in refs:
        if ref[0] == "id":
            match = [by_id[ref[1]]] if ref[1] in by_id else []
        else:
            _tag, kind, code = ref
            match = [g for g in genres if g.code == code and (not kind or g.kind == kind)]
        if not match:
            unknown.append(str(ref[-1]) if ref[0] == "id" else (f"{ref[1]}:{ref[2]}" if ref[1] else ref[2]))
        found.extend(match)
    if unknown:
        raise serializers.ValidationError(
            {"genres": [_unknown_genres(unknown)]})
    return found


TELEGRAM_ID_MIN = 1


class TelegramIdPath(serializers.Serializer):
    """The `<telegram_id>` of a users/… path: range-checked before it reaches the database."""

    telegram_id = _StrictIntegerField(min_value=TELEGRAM_ID_MIN, max_value=BIGINT_MAX)


class RecommendationInput(serializers.Serializer):
    telegram_id = _StrictIntegerField(required=False, min_value=TELEGRAM_ID_MIN,
                                      help_text="The user's Telegram id (unknown ids are fine).")
    user_id = _StrictIntegerField(required=False, min_value=1, help_text="A profile id, for clients without Telegram.")
    mood = serializers.CharField(help_text="A mood code from GET /api/v1/moods.",
                                 error_messages={
                                     "required": gettext_lazy("mood is required: a code from GET /api/v1/moods.")})
    minutes = _StrictIntegerField(help_text=f"Free time in minutes, {MIN_MINUTES}..{MAX_MINUTES}.",
                                  error_messages={"invalid": _MINUTES_RANGE,
                                                  "required": _MINUTES_REQUIRED})
    kinds = serializers.ListField(child=serializers.CharField(), required=False, allow_empty=False,
                                  help_text="Any of film, book, track (default: all three).")
    limit = _StrictIntegerField(required=False, default=3,
                                error_messages={"invalid": _LIMIT_RANGE},
                                help_text=f"Items per kind, {MIN_LIMIT}..{MAX_LIMIT} (default 3).")
    exclude = serializers.ListField(child=_StrictIntegerField(), required=False, default=list,
                                    help_text="Item ids to leave out of this request ('show me others').")
    genres = serializers.ListField(child=GenreRefField(), required=False, allow_null=True, default=None,
                                   help_text="Genres to use instead of the profile's: ids or codes.")

    def validate_mood(self, value):
        mood = Mood.objects.filter(code=value.strip(), is_active=True).first()
        if mood is None:
            raise serializers.ValidationError(gettext("Unknown mood %(mood)s. Valid moods: %(moods)s.")
                                              % {"mood": repr(value), "moods": _moods_text()})
        return mood

    def validate_minutes(self, value):
        if not MIN_MINUTES <= value <= MAX_MINUTES:
            raise serializers.ValidationError(str(_MINUTES_RANGE))
        return value

    def validate_limit(self, value):
        if not MIN_LIMIT <= value <= MAX_LIMIT:
            raise serializers.ValidationError(str(_LIMIT_RANGE))
        return value

    def validate_kinds(self, value):
        unknown = [k for k in value if k not in ALL_KINDS]
        if unknown:
            raise serializers.ValidationError(_unknown_kinds(unknown, ALL_KINDS))
        return tuple(dict.fromkeys(value))

    def validate(self, attrs):
        if "telegram_id" in attrs and "user_id" in attrs:
            raise serializers.ValidationError(gettext("Give telegram_id or user_id, not both."))
        return attrs


class MoodOutput(serializers.Serializer):
    code = serializers.CharField()
    name_ru = serializers.CharField()
    name_en = serializers.CharField()
    emoji = serializers.CharField()
    valence = serializers.FloatField()
    arousal = serializers.FloatField()


class GenreOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    code = serializers.CharField()
    name_ru = serializers.CharField()
    name_en = serializers.CharField()


class GenresQuery(serializers.Serializer):
    kind = serializers.CharField(required=False)

    def validate_kind(self, value):
        if value not in Kind.values:
            raise serializers.ValidationError(_unknown_kinds([repr(value)], Kind.values))
        return value


class ReasonOutput(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    ru = serializers.CharField()
    en = serializers.CharField()


class OfferOutput(serializers.Serializer):
    offer_id = serializers.IntegerField()
    partner = serializers.CharField(help_text="The shop's code.")
    partner_name = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    offer_type = serializers.CharField()
    link = serializers.CharField(help_text="Tracked /go/<token> link; the token names this recommendation and offer.")


class ItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    rank = serializers.IntegerField()
    score = serializers.FloatField()
    title = serializers.CharField()
    original_title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    creators = serializers.ListField(child=serializers.CharField())
    genres = GenreOutput(many=True)
    length_minutes = serializers.IntegerField(allow_null=True)
    pages = serializers.IntegerField(allow_null=True)
    duration_seconds = serializers.IntegerField(allow_null=True)
    rating = serializers.FloatField(allow_null=True)
    votes = serializers.IntegerField()
    cover_url = serializers.CharField()
    description = serializers.CharField()
    reasons = ReasonOutput(many=True)
    offers = OfferOutput(many=True)


class PlaylistOutput(serializers.Serializer):
    minutes = serializers.IntegerField()
    total_seconds = serializers.IntegerField()
    items = ItemOutput(many=True)


class RecommendationOutput(serializers.Serializer):
    request_id = serializers.UUIDField()
    strategy = serializers.CharField()
    model_version = serializers.CharField(allow_null=True)
    variant = serializers.CharField()
    language = serializers.CharField(help_text="The language of every reason's `text`: the user's own when the "
                                               "request names a known user, else the request's Accept-Language "
                                               "(en or ru; English by default).")
    results = serializers.DictField(child=ItemOutput(many=True))
    playlist = PlaylistOutput(allow_null=True)
    empty_reasons = serializers.DictField(child=ReasonOutput())


def pick_data(pick, language: str) -> dict:
    item = pick.item
    return {
        "id": item.pk, "kind": pick.kind, "rank": pick.rank, "score": pick.score, "title": item.title,
        "original_title": item.original_title, "year": item.year, "creators": list(item.creators or []),
        "genres": [{"id": g.pk, "kind": g.kind, "code": g.code, "name_ru": g.name_ru, "name_en": g.name_en}
                   for g in item.genres.all()],
        "length_minutes": item.length_minutes, "pages": item.pages, "duration_seconds": item.duration_seconds,
        "rating": item.rating, "votes": item.votes, "cover_url": item.cover_url, "description": item.description,
        "reasons": [{"code": r.code, "text": r.text(language), "ru": r.ru, "en": r.en} for r in pick.reasons],
        "offers": [{"offer_id": o.offer_id, "partner": o.partner_code, "partner_name": o.partner_name,
                    "price": str(o.price), "currency": o.currency, "offer_type": o.offer_type, "link": o.link}
                   for o in pick.offers],
    }


def result_data(result) -> dict:
    language = result.language
    return {
        "request_id": result.request_id, "strategy": result.strategy, "model_version": result.model_version,
        "variant": result.variant, "language": language,
        "results": {kind: [pick_data(p, language) for p in picks] for kind, picks in result.results.items()},
        "playlist": None if result.playlist is None else {
            "minutes": result.playlist.minutes, "total_seconds": result.playlist.total_seconds,
            "items": [pick_data(p, language) for p in result.playlist.items]},
        "empty_reasons": {kind: {"code": r.code, "text": r.text(language), "ru": r.ru, "en": r.en}
                          for kind, r in result.empty_reasons.items()},
    }


class ProfileOutput(serializers.Serializer):
    telegram_id = serializers.IntegerField()
    language = serializers.CharField()
    onboarding = serializers.CharField()
    genres = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Chosen genre codes per kind.")


class ProfileInput(serializers.Serializer):
    genres = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(), allow_empty=True),
        help_text="Genre codes per kind, e.g. {\"film\": [\"drama\"]}; kinds left out keep their genres.")
    language = serializers.ChoiceField(choices=[c for c, _n in settings.LANGUAGES], required=False)

    def validate_genres(self, value):
        unknown_kinds = [k for k in value if k not in Kind.values]
        if unknown_kinds:
            raise serializers.ValidationError(_unknown_kinds(unknown_kinds, Kind.values))
        known = {(g.kind, g.code): g for g in Genre.objects.filter(kind__in=list(value))}
        resolved, unknown = {}, []
        for kind, codes in value.items():
            resolved[kind] = []
            for code in codes:
                if (kind, code) in known:
                    resolved[kind].append(known[(kind, code)])
                else:
                    unknown.append(f"{kind}:{code}")
        if unknown:
            raise serializers.ValidationError(_unknown_genres(unknown))
        return resolved


class RatingInput(serializers.Serializer):
    item = _StrictIntegerField(min_value=1, help_text="A ContentItem id.")
    value = serializers.ChoiceField(choices=list(RATING_VALUES),
                                    error_messages={
                                        "invalid_choice": gettext_lazy("value must be one of: like, unknown, dislike.")})
    source = serializers.ChoiceField(choices=Rating.Source.values, default=Rating.Source.API)


class RatingOutput(serializers.Serializer):
    item = serializers.IntegerField()
    value = serializers.CharField()
    source = serializers.CharField()
