"""Simultaneous requests (double taps, two gunicorn workers, a partner retrying at once) count once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from tracking.links import read_offer_link_token
from tracking.models import Click, Conversion
from tracking.services import click_record, conversion_record, conversion_report_parse

from .conftest import go_path

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers")


def run_at_once(func, n=8):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(func())
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_simultaneous_clicks_by_one_user_on_one_offer_are_one_click(offer, profile, make_recommendation):
    target = read_offer_link_token(go_path(make_recommendation(profile=profile), offer).rsplit("/", 1)[1])
    results = run_at_once(lambda: click_record(target=target, user_agent="double tap"))
    assert Click.objects.count() == 1
    assert {r.click_id for r in results} == {Click.objects.get().click_id}
    assert sum(r.created for r in results) == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_replays_of_one_event_are_one_conversion(partner, offer, profile, click_on):
    click = click_on(offer, profile=profile, ago=timedelta(minutes=1))
    report = conversion_report_parse(data={"click_id": click.click_id, "event": "registration", "event_id": "e-1"},
                                     partner=partner)
    results = run_at_once(lambda: conversion_record(partner=partner, report=report))
    assert Conversion.objects.count() == 1
    assert {conversion.pk for conversion, _created in results} == {Conversion.objects.get().pk}
    assert sum(created for _conversion, created in results) == 1
