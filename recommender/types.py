"""The recommendation service's input and output: plain values shared by the API, the bot and evaluation."""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.models import ContentItem, Mood
from users.models import Profile

ALL_KINDS = ("film", "book", "track")


@dataclass(frozen=True)
class Reason:
    """Why an item was picked, in both languages."""

    code: str
    ru: str
    en: str

    def text(self, language: str) -> str:
        return self.en if language == "en" else self.ru


@dataclass(frozen=True)
class RecommendationRequest:
    mood: Mood
    minutes: int
    kinds: tuple[str, ...] = ALL_KINDS
    limit: int = 3
    profile: Profile | None = None
    # Explicit genre ids (API callers without a profile); None means "the profile's genres".
    genre_ids: tuple[int, ...] | None = None
    # Items to leave out of this one request ("show me others"); never read from history.
    exclude_item_ids: frozenset[int] = frozenset()
    channel: str = "api"
    # The reasons' language when there is no profile (an API caller's Accept-Language); a profile's own wins.
    language: str = "ru"


@dataclass
class OfferPick:
    offer_id: int
    partner_code: str
    partner_name: str
    price: Decimal
    currency: str
    offer_type: str
    link: str  # tracked /go/<token> URL


@dataclass
class ItemPick:
    item: ContentItem
    kind: str
    rank: int
    score: float
    reasons: list[Reason] = field(default_factory=list)
    offers: list[OfferPick] = field(default_factory=list)


@dataclass
class Playlist:
    """Tracks that together fill the user's minutes."""

    items: list[ItemPick]
    total_seconds: int
    minutes: int


@dataclass
class RecommendationResult:
    request_id: uuid.UUID
    strategy: str
    model_version: str | None
    variant: str
    language: str
    results: dict[str, list[ItemPick]]
    playlist: Playlist | None = None
    # Per kind with no picks: why (e.g. "no film fits in 5 minutes").
    empty_reasons: dict[str, Reason] = field(default_factory=dict)
