"""Reads the bot's screens need: genres, moods, warm-up cards, the saved list."""

from dataclasses import dataclass

from django.db.models import Prefetch

from catalog.models import ContentItem, Genre, Kind, Mood, MoodPhrase, Offer
from recommender.types import OfferPick
from tracking.links import offer_link
from users.models import Profile, SavedItem

# Registration asks about kinds in this order (films, music, books — as the product's flow shows).
KIND_ORDER = (Kind.FILM, Kind.TRACK, Kind.BOOK)


def genres_of_kind(*, kind: str, language: str) -> list[Genre]:
    genres = list(Genre.objects.filter(kind=kind))
    return sorted(genres, key=lambda genre: genre.name(language).lower())


def chosen_genre_ids(*, profile: Profile, kind: str | None = None) -> set[int]:
    chosen = profile.genres.all()
    if kind is not None:
        chosen = chosen.filter(kind=kind)
    return set(chosen.values_list("id", flat=True))


def chosen_genre_names(*, profile: Profile, language: str) -> dict[str, list[str]]:
    """The profile's genres per kind, in the user's language."""
    names: dict[str, list[str]] = {kind: [] for kind in KIND_ORDER}
    for genre in profile.genres.all():
        names.setdefault(genre.kind, []).append(genre.name(language))
    return {kind: sorted(values) for kind, values in names.items()}


def active_moods() -> list[Mood]:
    return list(Mood.objects.filter(is_active=True).order_by("position", "code"))


def moods_with_phrases() -> list[Mood]:
    """The active moods with their words and phrases (two queries), to understand a typed message."""
    phrases = Prefetch("phrases", queryset=MoodPhrase.objects.only("mood_id", "text"))
    return list(Mood.objects.filter(is_active=True).order_by("position", "code").prefetch_related(phrases))


def mood_get(mood_id: int) -> Mood | None:
    return Mood.objects.filter(pk=mood_id, is_active=True).first()


def items_with_genres(*, item_ids: list[int]) -> dict[int, ContentItem]:
    items = ContentItem.objects.filter(pk__in=item_ids).prefetch_related("genres")
    return {item.pk: item for item in items}


@dataclass
class SavedEntry:
    item: ContentItem
    offer: OfferPick | None  # the best offer now, with its tracked link; None when no shop has it


def saved_page(*, profile: Profile, page: int, size: int) -> tuple[list[SavedEntry], int]:
    """One page of the profile's saved items, newest first, each with its best offer now; and how many in all.

    The best offer is the cheapest available one of an active shop (the order the recommender
    uses). Its link is the tracked /go/ link of the recommendation whose card was saved, so the
    click counts for the model and variant that picked the item.
    """
    saved = SavedItem.objects.filter(profile=profile)
    total = saved.count()
    rows = list(saved.select_related("item")[page * size:(page + 1) * size])
    offers: dict[int, Offer] = {}
    for offer in (Offer.objects.filter(item_id__in=[row.item_id for row in rows], available=True,
                                       partner__is_active=True)
                  .select_related("partner").order_by("item_id", "price", "partner__name", "pk")):
        offers.setdefault(offer.item_id, offer)
    entries = []
    for row in rows:
        offer = offers.get(row.item_id)
        pick = None
        if offer is not None and row.recommendation_id is not None:
            pick = OfferPick(offer.pk, offer.partner.code, offer.partner.name, offer.price, offer.currency,
                             offer.offer_type, link=offer_link(recommendation_id=row.recommendation_id,
                                                               offer_id=offer.pk))
        entries.append(SavedEntry(row.item, pick))
    return entries, total


def saved_item_ids(*, profile: Profile, item_ids: list[int]) -> set[int]:
    return set(SavedItem.objects.filter(profile=profile, item_id__in=item_ids).values_list("item_id", flat=True))
