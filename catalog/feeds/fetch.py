"""Fetching a partner's feed URL safely.

Only http and https; a timeout on connecting and on every read, plus an overall deadline; at most
settings.FEED_MAX_BYTES; never to loopback, private, link-local or other non-public addresses
unless settings.FEED_ALLOW_PRIVATE_ADDRESSES. The host name is resolved once, every address it
resolves to is checked, and the connection goes to a checked address itself (the URL's host name
stays in the Host header and is the TLS server name the certificate is verified against), so a DNS
answer that changes after the check (DNS rebinding) cannot steer the request inside. Redirects
are followed by hand (at most 5), each hop resolved and checked the same way. Transient failures (network errors, timeouts, 5xx, 429) are
retried with exponential backoff; the last reason is reported.
"""

import ipaddress
import socket
import time
from contextlib import contextmanager
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

MAX_REDIRECTS = 5
USER_AGENT = "MoodStream feed importer (+https://moodstream.example/partners)"


class FeedFetchError(Exception):
    """The feed could not be fetched; the message says why."""


class _Transient(FeedFetchError):
    """Worth another try."""


def feed_fetch(url: str, dest: BinaryIO) -> int:
    """Download `url` into `dest`; returns the number of bytes. Raises FeedFetchError."""
    retries = max(0, settings.FEED_FETCH_RETRIES)
    last: FeedFetchError | None = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(settings.FEED_FETCH_BACKOFF_SECONDS * 2 ** (attempt - 1))
            dest.seek(0)
            dest.truncate()
        try:
            return _fetch_once(url, dest)
        except _Transient as exc:
            last = exc
    raise FeedFetchError(f"{last} (gave up after {retries + 1} attempts)")


def check_url(url: str) -> tuple[str, int, list[str]]:
    """Refuse anything but an http(s) URL whose host resolves only to allowed addresses.

    Returns the host, the port and the checked addresses (in the resolver's order, without repeats):
    the only addresses the request may connect to.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FeedFetchError(f"the feed URL is not valid: {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedFetchError(f"only http:// and https:// feed URLs are fetched, not {url[:100]!r}")
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise _Transient(f"cannot resolve the feed host {host!r} ({exc.strerror})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        check_address(address, host)
    return host, port, addresses


def check_address(address: str, host: str) -> None:
    if settings.FEED_ALLOW_PRIVATE_ADDRESSES:
        return
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        kind = ("loopback" if ip.is_loopback else "link-local" if ip.is_link_local
                else "private" if ip.is_private else "non-public")
        raise FeedFetchError(
            f"refused to fetch the feed from {host} ({ip}): a {kind} address; "
            "set FEED_ALLOW_PRIVATE_ADDRESSES=true to allow such addresses"
        )


def _fetch_once(url: str, dest: BinaryIO) -> int:
    timeout = settings.FEED_FETCH_TIMEOUT
    deadline = time.monotonic() + timeout * 20
    limit = settings.FEED_MAX_BYTES
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False,
                      headers={"User-Agent": USER_AGENT}) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            host, port, addresses = check_url(url)
            try:
                with _stream_from_checked_address(client, url, port, addresses) as response:
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        if not location:
                            raise FeedFetchError(f"the feed URL answered {response.status_code} without a Location")
                        url = urljoin(url, location)
                        continue
                    if response.status_code >= 500 or response.status_code == 429:
                        raise _Transient(f"the feed URL answered {response.status_code} {response.reason_phrase}")
                    if response.status_code != 200:
                        raise FeedFetchError(f"the feed URL answered {response.status_code} {response.reason_phrase}")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise FeedFetchError(f"the feed is {int(declared):,} bytes; the limit is {limit:,} bytes")
                    size = 0
                    for chunk in response.iter_bytes(256 * 1024):
                        size += len(chunk)
                        if size > limit:
                            raise FeedFetchError(f"the feed is larger than the limit of {limit:,} bytes")
                        if time.monotonic() > deadline:
                            raise _Transient(f"the feed took longer than {timeout * 20:g} s to download")
                        dest.write(chunk)
                    return size
            except httpx.TimeoutException:
                raise _Transient(f"the feed URL did not answer within {timeout:g} s") from None
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                raise _Transient(f"network error fetching the feed: {exc or type(exc).__name__}") from None
    raise FeedFetchError(f"the feed URL redirects more than {MAX_REDIRECTS} times")


@contextmanager
def _stream_from_checked_address(client: httpx.Client, url: str, port: int, addresses: list[str]):
    """GET `url` over a connection to one of `addresses` (tried in order), never resolving its host again.

    The request's URL names the address; the Host header keeps the URL's host (and port), and for
    https the `sni_hostname` extension makes httpcore send that name in the TLS handshake and verify
    the certificate against it.
    """
    parts = urlsplit(url)
    userinfo, _, host_header = parts.netloc.rpartition("@")
    for index, address in enumerate(addresses):
        literal = f"[{address.split('%', 1)[0]}]" if ":" in address else address
        direct = urlunsplit(parts._replace(netloc=f"{userinfo}{'@' if userinfo else ''}{literal}:{port}"))
        extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
        request = client.build_request("GET", direct, headers={"Host": host_header}, extensions=extensions)
        try:
            response = client.send(request, stream=True)
        except httpx.ConnectError:
            if index == len(addresses) - 1:
                raise
            continue  # e.g. ::1 first while the server listens on 127.0.0.1 only
        try:
            yield response
        finally:
            response.close()
        return
