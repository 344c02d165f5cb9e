"""factory_boy factories for the core models, shared by every test package."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from catalog.models import ContentItem, Genre, Kind, Mood, Offer, OfferType, Partner
from catalog.services import normalize_title
from users.models import Profile, Rating


class GenreFactory(DjangoModelFactory):
    class Meta:
        model = Genre
        django_get_or_create = ("kind", "code")

    kind = Kind.FILM
    code = factory.Sequence(lambda n: f"genre{n}")
    name_ru = factory.LazyAttribute(lambda o: f"Жанр {o.code}")
    name_en = factory.LazyAttribute(lambda o: f"Genre {o.code}")


class MoodFactory(DjangoModelFactory):
    class Meta:
        model = Mood
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"mood{n}")
    name_ru = factory.LazyAttribute(lambda o: f"Настроение {o.code}")
    name_en = factory.LazyAttribute(lambda o: f"Mood {o.code}")
    valence = 0.5
    arousal = 0.5


class ContentItemFactory(DjangoModelFactory):
    class Meta:
        model = ContentItem
        skip_postgeneration_save = True

    kind = Kind.FILM
    title = factory.Sequence(lambda n: f"Item {n}")
    normalized_title = factory.LazyAttribute(lambda o: normalize_title(o.title))
    year = 2000
    creators = factory.LazyFunction(lambda: ["Somebody"])
    primary_creator = factory.LazyAttribute(lambda o: o.creators[0] if o.creators else "")
    rating = 7.0
    votes = 1000
    length_minutes = 100

    @factory.post_generation
    def genres(self, create, extracted, **kwargs):
        if create and extracted:
            self.genres.set(extracted)


class PartnerFactory(DjangoModelFactory):
    class Meta:
        model = Partner
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"shop{n}")
    name = factory.LazyAttribute(lambda o: f"Shop {o.code}")
    site_url = factory.LazyAttribute(lambda o: f"https://{o.code}.example")
    payout_click = Decimal("1.00")
    payout_registration = Decimal("50.00")
    payout_subscription = Decimal("150.00")
    payout_purchase = Decimal("30.00")


class OfferFactory(DjangoModelFactory):
    class Meta:
        model = Offer

    partner = factory.SubFactory(PartnerFactory)
    item = factory.SubFactory(ContentItemFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    url = factory.LazyAttribute(lambda o: f"https://{o.partner.code}.example/item/{o.sku}")
    price = Decimal("299.00")
    currency = "RUB"
    offer_type = OfferType.BUY
    available = True


class ProfileFactory(DjangoModelFactory):
    class Meta:
        model = Profile

    telegram_id = factory.Sequence(lambda n: 100000 + n)
    first_name = "Test"
    language = "ru"
    onboarding = Profile.Onboarding.DONE


class RatingFactory(DjangoModelFactory):
    class Meta:
        model = Rating

    profile = factory.SubFactory(ProfileFactory)
    item = factory.SubFactory(ContentItemFactory)
    value = Rating.Value.LIKE
    source = Rating.Source.API
