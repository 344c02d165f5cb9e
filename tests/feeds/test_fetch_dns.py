"""The feed fetcher resolves a host name once, checks the addresses, and connects to a checked
address (DNS rebinding: a second, different answer must never be used). The Host header keeps the
URL's name. A stub resolver answers for the *.test names; the servers are on 127.0.0.1."""

import socket

import pytest

from catalog.models import Offer

from .feeds import BOOKS, yml
from .helpers import run_url_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolver(monkeypatch):
    """DNS for *.test names: `answers[name]` is the list of answers given in turn (the last repeats)."""
    real = socket.getaddrinfo
    answers: dict[str, list[str]] = {}
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if host in answers:
            asked.append(host)
            address = answers[host][min(asked.count(host), len(answers[host])) - 1]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 80)))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, asked


def test_a_name_resolving_to_loopback_is_refused_when_private_addresses_are_off(partner, settings, feed_server,
                                                                                 resolver):
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = False
    answers, _asked = resolver
    answers["feeds.partner.test"] = ["127.0.0.1"]
    port = feed_server.httpd.server_address[1]
    feed_server.serve("/feed.yml", yml(BOOKS))

    feed_import = run_url_import(partner, f"http://feeds.partner.test:{port}/feed.yml")

    assert feed_import.status == "failed"
    assert feed_import.message.startswith("Refused to fetch the feed from feeds.partner.test (127.0.0.1): "
                                          "a loopback address")
    assert feed_server.hits["/feed.yml"] == 0


def test_the_connection_goes_to_the_checked_address_not_to_a_second_answer(partner, settings, feed_server, resolver):
    """A rebinding name answers 127.0.0.1 first, then an address nobody serves on: only the first is used."""
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = True
    settings.FEED_FETCH_RETRIES = 0
    answers, asked = resolver
    answers["feeds.partner.test"] = ["127.0.0.1", "127.0.0.2"]
    port = feed_server.httpd.server_address[1]
    feed_server.serve("/feed.yml", yml(BOOKS))

    feed_import = run_url_import(partner, f"http://feeds.partner.test:{port}/feed.yml")

    assert feed_import.status == "succeeded", feed_import.message
    assert asked == ["feeds.partner.test"]  # resolved once
    assert feed_server.host_headers["/feed.yml"] == [f"feeds.partner.test:{port}"]
    assert Offer.objects.filter(partner=partner).count() == len(BOOKS)


def test_each_redirect_hop_is_resolved_once_and_keeps_its_host_name(partner, settings, feed_server, resolver):
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = True
    answers, asked = resolver
    answers["old.partner.test"] = ["127.0.0.1"]
    answers["cdn.partner.test"] = ["127.0.0.1", "127.0.0.2"]
    port = feed_server.httpd.server_address[1]
    feed_server.serve("/feed.yml", yml(BOOKS))
    feed_server.serve("/old", b"", status=301, headers={"Location": f"http://cdn.partner.test:{port}/feed.yml"})

    feed_import = run_url_import(partner, f"http://old.partner.test:{port}/old")

    assert feed_import.status == "succeeded", feed_import.message
    assert asked == ["old.partner.test", "cdn.partner.test"]
    assert feed_server.host_headers["/old"] == [f"old.partner.test:{port}"]
    assert feed_server.host_headers["/feed.yml"] == [f"cdn.partner.test:{port}"]

