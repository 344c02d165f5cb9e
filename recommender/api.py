"""The recommendation REST API: thin views that validate, call one service or selector, and render."""

from django.db import transaction
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import ContentItem, Genre, Mood
from users.authentication import ApiKeyAuthentication, HasApiKey
from users.models import Profile
from users.services import profile_get_or_create_for_telegram, profile_set_genres, rating_set

from . import serializers as s
from .services import recommend
from .types import ALL_KINDS, RecommendationRequest


class ApiKeyView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def permission_denied(self, request, message=None, code=None):
        # Without any key DRF would answer its generic "credentials were not provided".
        if request.auth is None:
            raise NotAuthenticated(HasApiKey.message)
        super().permission_denied(request, message=message, code=code)


class RecommendationsView(ApiKeyView):
    @extend_schema(request=s.RecommendationInput, responses={200: s.RecommendationOutput},
                   summary="Pick films, books and music for a mood and the free time")
    def post(self, request):
        data = s.RecommendationInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        profile = None
        if "telegram_id" in values:
            profile = Profile.objects.filter(telegram_id=values["telegram_id"]).first()
        elif "user_id" in values:
            profile = Profile.objects.filter(pk=values["user_id"]).first()
        genre_ids = None
        if values.get("genres") is not None:
            genre_ids = tuple(g.pk for g in s.resolve_genres(values["genres"]))
        result = recommend(RecommendationRequest(
            mood=values["mood"], minutes=values["minutes"], kinds=values.get("kinds") or ALL_KINDS,
            limit=values["limit"], profile=profile, genre_ids=genre_ids,
            exclude_item_ids=frozenset(values["exclude"]), channel="api", language=request.LANGUAGE_CODE,
        ))
        return Response(s.result_data(result))


class MoodsView(APIView):
    authentication_classes = []
    permission_classes = []

    @extend_schema(responses={200: s.MoodOutput(many=True)}, summary="The moods (public)")
    def get(self, request):
        moods = Mood.objects.filter(is_active=True).order_by("position", "code")
        return Response(s.MoodOutput(moods, many=True).data)


class GenresView(APIView):
    authentication_classes = []
    permission_classes = []

    @extend_schema(parameters=[OpenApiParameter("kind", str, enum=list(ALL_KINDS))],
                   responses={200: s.GenreOutput(many=True)}, summary="Genres, optionally of one kind (public)")
    def get(self, request):
        query = s.GenresQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        genres = Genre.objects.all().order_by("kind", "code")
        if "kind" in query.validated_data:
            genres = genres.filter(kind=query.validated_data["kind"])
        return Response(s.GenreOutput(genres, many=True).data)


class TelegramUserView(ApiKeyView):
    """An operation on /users/<telegram_id>/…: the id is checked against the bigint range first (400, not 500)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        path = s.TelegramIdPath(data={"telegram_id": kwargs["telegram_id"]})
        path.is_valid(raise_exception=True)


TELEGRAM_ID_PARAMETER = OpenApiParameter(
    "telegram_id", int, OpenApiParameter.PATH,
    description=f"The user's Telegram id, {s.TELEGRAM_ID_MIN}..2^63-1 (a larger number is a 400).")


def _profile_data(profile: Profile) -> dict:
    genres = {kind: [] for kind in ALL_KINDS}
    for kind, code in profile.genres.order_by("kind", "code").values_list("kind", "code"):
        genres.setdefault(kind, []).append(code)
    return {"telegram_id": profile.telegram_id, "language": profile.language, "onboarding": profile.onboarding,
            "genres": genres}


class ProfileView(TelegramUserView):
    @extend_schema(parameters=[TELEGRAM_ID_PARAMETER], responses={200: s.ProfileOutput},
                   summary="A Telegram user's language and chosen genres")
    def get(self, request, telegram_id: int):
        profile = Profile.objects.filter(telegram_id=telegram_id).first()
        if profile is None:
            raise NotFound(gettext("No profile with telegram_id %(telegram_id)s.") % {"telegram_id": telegram_id})
        return Response(_profile_data(profile))

    @extend_schema(parameters=[TELEGRAM_ID_PARAMETER], request=s.ProfileInput, responses={200: s.ProfileOutput},
                   summary="Set chosen genres per kind (creates the profile on first contact)")
    def put(self, request, telegram_id: int):
        data = s.ProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            profile, _created = profile_get_or_create_for_telegram(
                telegram_id=telegram_id, language_code=data.validated_data.get("language"))
            for kind, genres in data.validated_data["genres"].items():
                profile_set_genres(profile=profile, genres=genres, kind=kind)
        return Response(_profile_data(profile))


class RatingsView(TelegramUserView):
    @extend_schema(parameters=[TELEGRAM_ID_PARAMETER], request=s.RatingInput, responses={201: s.RatingOutput},
                   summary="Record a Like / Don't know / Dislike answer")
    def post(self, request, telegram_id: int):
        data = s.RatingInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        item = ContentItem.objects.filter(pk=values["item"]).first()
        if item is None:
            raise ValidationError({"item": [gettext("No item with id %(id)s.") % {"id": values["item"]}]})
        profile, _created = profile_get_or_create_for_telegram(telegram_id=telegram_id)
        rating = rating_set(profile=profile, item=item, value=s.RATING_VALUES[values["value"]], source=values["source"])
        return Response({"item": item.pk, "value": values["value"], "source": rating.source},
                        status=status.HTTP_201_CREATED)
