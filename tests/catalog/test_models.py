import pytest
from django.db import IntegrityError, transaction

from tests.factories import OfferFactory, PartnerFactory

pytestmark = pytest.mark.django_db


def test_duplicate_sku_for_one_partner_is_refused():
    partner = PartnerFactory()
    OfferFactory(partner=partner, sku="A-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        OfferFactory(partner=partner, sku="A-1")


def test_same_sku_at_two_partners_is_allowed():
    OfferFactory(partner=PartnerFactory(code="one"), sku="A-1")
    OfferFactory(partner=PartnerFactory(code="two"), sku="A-1")
