"""The offer and item lists: period counts annotated (test clicks left out), no query per row, cut titles."""

from datetime import timedelta

import pytest
from django.test import Client

from tests.factories import ContentItemFactory, OfferFactory
from tracking.connect import connect_test_click
from tracking.models import Click


@pytest.fixture
def admin_client(db):
    from users.models import User

    client = Client()
    client.force_login(User.objects.create_superuser(username="boss", password="x-password-123", email=""))
    return client


def _click(offer, *, ago=timedelta(0), is_test=False, n=[0]):
    if is_test:
        click = connect_test_click(partner=offer.partner)  # what the connect page's test button makes
    else:
        n[0] += 1
        click = Click.objects.create(click_id=f"c{n[0]}", offer=offer, partner=offer.partner)
    Click.objects.filter(pk=click.pk).update(created_at=click.created_at - ago)


def test_clicks_in_the_selected_period_without_test_clicks(admin_client):
    offer = OfferFactory(item=ContentItemFactory(title="A very long title " * 8))
    _click(offer)
    _click(offer, ago=timedelta(days=10))
    _click(offer, is_test=True)
    week = admin_client.get("/admin/catalog/offer/", {"period": "7"}).content.decode()
    month = admin_client.get("/admin/catalog/offer/").content.decode()
    assert '<td class="field-clicks_in_period">1</td>' in week
    assert '<td class="field-clicks_in_period">2</td>' in month
    assert 'class="ms-cut"' in month and 'title="A very long title' in month  # cut, whole title on hover


def test_the_offer_list_asks_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    for _ in range(3):
        _click(OfferFactory())
    with django_assert_max_num_queries(12) as few:
        admin_client.get("/admin/catalog/offer/")
    for _ in range(20):
        _click(OfferFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get("/admin/catalog/offer/")
