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



@pytest.fixture
def https_feed_server(tmp_path):
    """An HTTPS server on 127.0.0.1 with a certificate for feeds.partner.test only; records the TLS
    server names (SNI) and Host headers it receives."""
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
                    "-out", str(cert), "-subj", "/CN=feeds.partner.test",
                    "-addext", "subjectAltName=DNS:feeds.partner.test"], check=True, capture_output=True)
    seen = {"sni": [], "host": []}
    body = yml(BOOKS)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen["host"].append(self.headers.get("Host"))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _socket, name, _context: seen["sni"].append(name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], cert, seen
    httpd.shutdown()
    httpd.server_close()


def test_https_keeps_the_host_name_for_sni_and_the_certificate_check(partner, settings, resolver, https_feed_server,
                                                                      monkeypatch):
    """Connected by address, the TLS handshake still names feeds.partner.test and the certificate
    (valid for that name only, not for 127.0.0.1) is verified against it."""
    import certifi

    settings.FEED_ALLOW_PRIVATE_ADDRESSES = True
    port, cert, seen = https_feed_server
    monkeypatch.setattr(certifi, "where", lambda: str(cert))  # trust the test certificate, as a CA bundle would
    answers, asked = resolver
    answers["feeds.partner.test"] = ["127.0.0.1"]

    feed_import = run_url_import(partner, f"https://feeds.partner.test:{port}/feed.yml")

    assert feed_import.status == "succeeded", feed_import.message
    assert seen["sni"] == ["feeds.partner.test"]
    assert seen["host"] == [f"feeds.partner.test:{port}"]
    assert asked == ["feeds.partner.test"]
