"""Simultaneous requests (double taps, two gunicorn workers, a partner retrying at once) count once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from tracking.billing import advisory_lock_id, click_dedup_key
from tracking.links import read_offer_link_token
from tracking.models import Click, Conversion
from tracking.services import ConversionRefused, click_record, conversion_record, conversion_report_parse

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


@pytest.mark.django_db(transaction=True)
def test_simultaneous_registrations_under_different_event_ids_are_one_conversion(partner, offer, profile, click_on):
    # A partner's retry storm: eight reports of one sign-up, each with its own event id, all at once.
    click = click_on(offer, profile=profile, ago=timedelta(minutes=1))
    ids = iter(range(8))
    reports = [conversion_report_parse(data={"click_id": click.click_id, "event": "registration",
                                             "event_id": f"lead-{next(ids)}"}, partner=partner) for _ in range(8)]
    queue = iter(reports)
    lock = threading.Lock()

    def report_one():
        with lock:
            report = next(queue)
        try:
            return conversion_record(partner=partner, report=report)[0].pk
        except ConversionRefused as refused:
            return (refused.status, refused.code)

    results = run_at_once(report_one)
    assert Conversion.objects.count() == 1
    assert sorted(results, key=str) == sorted([Conversion.objects.get().pk] + [(409, "already_converted")] * 7, key=str)


class HeldTransaction:
    """A second database session whose transaction stays open until `commit()`: another worker mid-request."""

    def __init__(self):
        self.session = connection.get_new_connection(connection.get_connection_params())
        self.session.autocommit = False

    def execute(self, sql, params=()):
        with self.session.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if cursor.description else None

    def commit(self):
        self.session.commit()
        self.session.close()


def start_and_wait_until_blocked(func):
    """Run func in a thread and return once its database session waits for a lock (or func is done)."""
    outcome = {}

    def run():
        try:
            outcome["result"] = func()
        except Exception as exc:  # re-raised by finish()
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    with connections["default"].cursor() as cursor:
        for _ in range(1000):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                           " AND wait_event_type = 'Lock'")
            if cursor.fetchone()[0] or not thread.is_alive():
                break
            threading.Event().wait(0.01)

    def finish():
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    return finish


@pytest.mark.django_db(transaction=True)
def test_a_click_waiting_for_the_lock_sees_the_click_its_holder_committed(offer, profile, make_recommendation):
    # Another worker holds the lock of the (profile, offer) dedup key and has inserted its click, not yet committed.
    target = read_offer_link_token(go_path(make_recommendation(profile=profile), offer).rsplit("/", 1)[1])
    key = click_dedup_key(profile_id=profile.pk, offer_id=offer.pk, client_address="")
    other = HeldTransaction()
    other.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_lock_id(key)])
    other.execute(f"INSERT INTO {Click._meta.db_table} (click_id, profile_id, offer_id, partner_id, variant,"
                  " user_agent, payout, payout_currency, created_at, billable, dedup_key)"
                  " VALUES ('held-click', %s, %s, %s, '', '', 0, 'RUB', now(), true, %s)",
                  [profile.pk, offer.pk, offer.partner_id, key])

    finish = start_and_wait_until_blocked(lambda: click_record(target=target))
    other.commit()
    result = finish()

    # The dedup check ran after the lock was granted, so it saw the other worker's click.
    assert (result.click_id, result.created) == ("held-click", False)
    assert Click.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_report_racing_an_uncommitted_original_returns_the_original(partner, offer, profile, click_on):
    click = click_on(offer, profile=profile, ago=timedelta(minutes=1))
    other = HeldTransaction()
    original_id = other.execute(
        f"INSERT INTO {Conversion._meta.db_table} (partner_id, click_id, event, event_id, currency, payout,"
        " payout_currency, status, status_reason, suspicious, occurred_at, created_at, updated_at)"
        " VALUES (%s, %s, 'registration', 'e-1', '', 0, 'RUB', 'pending', '', false, now(), now(), now())"
        " RETURNING id", [partner.pk, click.pk])[0]
    report = conversion_report_parse(data={"click_id": click.click_id, "event": "registration", "event_id": "e-1"},
                                     partner=partner)

    # The look-up cannot see the uncommitted original, so the insert meets it and waits for it.
    finish = start_and_wait_until_blocked(lambda: conversion_record(partner=partner, report=report))
    other.commit()
    conversion, created = finish()

    assert (conversion.pk, created) == (original_id, False)
    assert Conversion.objects.count() == 1
