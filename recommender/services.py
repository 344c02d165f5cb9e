"""The recommendation service: one entry point for the API, the bot and the evaluation command.

This first version serves only the `baseline` strategy (top-rated items with an available
offer that fit the time), which stays as the fallback and the control arm of experiments.
"""


from django.db import transaction
from django.db.models import Prefetch

from catalog.models import ContentItem, Offer
from tracking.links import offer_link

from .models import Recommendation, RecommendationItem
from .types import ItemPick, OfferPick, Reason, RecommendationRequest, RecommendationResult

BASELINE = "baseline"


def recommend(request: RecommendationRequest) -> RecommendationResult:
    """Pick items per kind for the request, log the recommendation and return it."""
    language = request.profile.language if request.profile else "ru"
    picks: dict[str, list[ItemPick]] = {}
    empty: dict[str, Reason] = {}
    for kind in request.kinds:
        items = _baseline_items(kind=kind, minutes=request.minutes, exclude=request.exclude_item_ids, limit=request.limit)
        picks[kind] = [
            ItemPick(item=item, kind=kind, rank=rank, score=float(item.rating or 0),
                     reasons=[Reason("top_rated", "высокий рейтинг", "highly rated")])
            for rank, item in enumerate(items, start=1)
        ]
        if not items:
            empty[kind] = Reason("nothing_fits", f"ничего не помещается в {request.minutes} мин",
                                 f"nothing fits in {request.minutes} min")

    with transaction.atomic():
        recommendation = Recommendation.objects.create(
            profile=request.profile, mood=request.mood, minutes=request.minutes, kinds=list(request.kinds),
            strategy=BASELINE, channel=request.channel,
        )
        RecommendationItem.objects.bulk_create(
            RecommendationItem(recommendation=recommendation, item=p.item, kind=p.kind, rank=p.rank, score=p.score)
            for kind_picks in picks.values() for p in kind_picks
        )
    for kind_picks in picks.values():
        for pick in kind_picks:
            pick.offers = [
                OfferPick(offer_id=o.pk, partner_code=o.partner.code, partner_name=o.partner.name, price=o.price,
                          currency=o.currency, offer_type=o.offer_type,
                          link=offer_link(recommendation_id=recommendation.pk, offer_id=o.pk))
                for o in pick.item.available_offers
            ]
    return RecommendationResult(
        request_id=recommendation.pk, strategy=BASELINE, model_version=None, variant="", language=language,
        results=picks, empty_reasons=empty,
    )


def _baseline_items(*, kind: str, minutes: int, exclude, limit: int) -> list[ContentItem]:
    queryset = (
        ContentItem.objects.filter(kind=kind, offers__available=True)
        .exclude(pk__in=list(exclude))
        .distinct()
        .order_by("-rating", "-votes", "pk")
        .prefetch_related(
            "genres",
            Prefetch("offers", queryset=Offer.objects.filter(available=True).select_related("partner"),
                     to_attr="available_offers"),
        )
    )
    if kind != "book":
        queryset = queryset.filter(length_minutes__lte=minutes)
    return list(queryset[:limit])



