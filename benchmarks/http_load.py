"""A small, cheap HTTP/1.1 load generator: one process, non-blocking keep-alive sockets, one event loop.

Two ways to drive a server:

- **closed loop** (`closed_loop`): `connections` clients, each sends its next request as soon as the
  previous answer arrived. The rate it reaches is the server's maximum sustained throughput for that
  many requests in flight; its latencies are mostly queueing (latency ~= in flight / throughput).
- **open loop** (`open_loop`): requests are *scheduled* at a fixed rate, whatever the server does, and
  each latency is measured from the request's scheduled send time, so a stall is charged to every
  request that should have been sent during it (no coordinated omission). A request whose time has
  come goes out on an idle connection; when all are busy a new one is opened (up to `max_connections`),
  otherwise it waits, and the wait counts in its latency.

Requests are pre-built bytes; answers are parsed just enough to get the status and skip the body
(Content-Length, chunked, or a closed connection), so the generator spends a few tens of microseconds of CPU per
request and leaves the cores to the server. Its own CPU time is reported.
"""

import errno
import selectors
import socket
import time
from collections import deque
from dataclasses import dataclass, field

RECV_BYTES = 65536


def get_request(path: str, *, host: str = "127.0.0.1", user_agent: str = "ms-bench/1.0") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n\r\n".encode("latin-1")


@dataclass
class LoadResult:
    mode: str
    elapsed: float = 0.0  # seconds from the first send to the last answer
    latencies: list[float] = field(default_factory=list)  # seconds, one per finished request (answered or failed)
    sent_at: list[float] = field(default_factory=list)  # seconds from the start, (scheduled) send time of each
    statuses: dict[int, int] = field(default_factory=dict)  # 0 = connection error / timeout
    answers: list[tuple[int, int]] = field(default_factory=list)  # (request index, status) of each answered request
    generator_cpu: float = 0.0  # seconds of this process's CPU
    connections_opened: int = 0
    not_sent: int = 0  # open loop: requests still queued when the run ended (counted as errors)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def slow_seconds(self, threshold: float) -> dict[int, int]:
        """Second of the run (by send time) -> how many requests sent in it took longer than threshold."""
        slow: dict[int, int] = {}
        for sent, latency in zip(self.sent_at, self.latencies):
            if latency > threshold:
                slow[int(sent)] = slow.get(int(sent), 0) + 1
        return slow

    def errors(self, ok_statuses) -> int:
        return sum(n for status, n in self.statuses.items() if status not in ok_statuses) + self.not_sent


class _Connection:
    """One keep-alive connection carrying at most one request at a time."""

    __slots__ = ("sock", "buffer", "index", "started", "header_end", "length", "chunked", "status", "close_after")

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        try:
            self.sock.connect(address)
        except BlockingIOError:
            pass  # completes in the background; the request is queued in the send buffer once it does
        self.index = -1
        self._reset()

    def _reset(self):
        self.buffer = b""
        self.header_end = -1
        self.length = -1
        self.chunked = False
        self.status = 0
        self.close_after = False

    def send(self, index: int, request: bytes, started: float) -> None:
        self.index, self.started = index, started
        self._reset()
        try:
            sent = self.sock.send(request)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            if exc.errno != errno.ENOTCONN:
                raise
            sent = 0  # still connecting
        if sent < len(request):
            # Requests are a few hundred bytes: only a connection still being set up takes them in parts.
            self.sock.setblocking(True)
            self.sock.sendall(request[sent:])
            self.sock.setblocking(False)

    def receive(self) -> bool | None:
        """Read what arrived; True when the answer is complete, None when the server closed the connection."""
        try:
            chunk = self.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return False
        if not chunk:
            if self.header_end >= 0 and self.length < 0:
                return True  # the body ran to the end of the connection
            return None
        self.buffer += chunk
        if self.header_end < 0:
            self.header_end = self.buffer.find(b"\r\n\r\n")
            if self.header_end < 0:
                return False
            head = self.buffer[:self.header_end].decode("latin-1").lower()
            lines = head.split("\r\n")
            self.status = int(lines[0].split(" ", 2)[1])
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name == "content-length":
                    self.length = int(value)
                elif name == "transfer-encoding" and "chunked" in value:
                    self.chunked = True
                elif name == "connection" and value.strip() == "close":
                    self.close_after = True
        if self.chunked:
            return self.buffer.endswith(b"\r\n0\r\n\r\n") or self.buffer.endswith(b"\r\n\r\n0\r\n\r\n")
        return self.length >= 0 and len(self.buffer) - self.header_end - 4 >= self.length

    def close(self):
        self.sock.close()


class _Driver:
    def __init__(self, port: int, requests: list[bytes], *, timeout: float):
        self.address = ("127.0.0.1", port)
        self.requests = requests
        self.timeout = timeout
        self.selector = selectors.DefaultSelector()
        # Idle connections are reused in turn (first in, first out) so the load spreads over all of
        # them, and so over every server worker that accepted one.
        self.idle: deque[_Connection] = deque()
        self.busy: set[_Connection] = set()
        self.result: LoadResult | None = None
        self.started = 0.0  # perf_counter() at the start of the run
        self.times: list[float] = []  # per request: the moment latency is measured from

    def open(self) -> _Connection:
        conn = _Connection(self.address)
        self.result.connections_opened += 1
        return conn

    def send(self, conn: _Connection, index: int, scheduled: float) -> None:
        try:
            conn.send(index, self.requests[index], scheduled)
        except OSError:
            self.finish(conn, 0, time.perf_counter(), reconnect=True)
            return
        self.busy.add(conn)
        self.selector.register(conn.sock, selectors.EVENT_READ, conn)

    def finish(self, conn: _Connection, status: int, now: float, *, reconnect: bool) -> None:
        result = self.result
        result.latencies.append(now - conn.started)
        result.sent_at.append(conn.started - self.started)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if status:
            result.answers.append((conn.index, status))
        if conn in self.busy:
            self.busy.discard(conn)
            self.selector.unregister(conn.sock)
        if reconnect:
            conn.close()
            conn = self.open()
        self.idle.append(conn)

    def poll(self, timeout: float) -> None:
        for key, _events in self.selector.select(timeout):
            conn = key.data
            try:
                done = conn.receive()
            except (OSError, ValueError, IndexError):
                done = None
            now = time.perf_counter()
            if done is None:
                self.finish(conn, 0, now, reconnect=True)
            elif done:
                self.finish(conn, conn.status, now, reconnect=conn.close_after)

    def expire(self, now: float) -> None:
        for conn in [c for c in self.busy if now - c.started > self.timeout]:
            self.finish(conn, 0, now, reconnect=True)

    def close(self) -> None:
        for conn in list(self.idle) + list(self.busy):
            conn.close()
        self.selector.close()


def closed_loop(port: int, requests: list[bytes], *, connections: int, seconds: float,
                timeout: float = 10.0) -> LoadResult:
    """Each of `connections` clients sends its next request as soon as its previous one is answered."""
    driver = _Driver(port, requests, timeout=timeout)
    driver.result = result = LoadResult(mode=f"closed loop, {connections} connections")
    cpu = time.process_time()
    driver.idle.extend(driver.open() for _ in range(connections))
    started = driver.started = time.perf_counter()
    deadline = started + seconds
    next_index = 0
    while True:
        now = time.perf_counter()
        while driver.idle and now < deadline and next_index < len(requests):
            driver.send(driver.idle.popleft(), next_index, now)
            next_index += 1
        if not driver.busy:
            break
        driver.poll(0.05)
        driver.expire(time.perf_counter())
    result.elapsed = time.perf_counter() - started
    driver.close()
    result.generator_cpu = time.process_time() - cpu
    return result


def open_loop(port: int, requests: list[bytes], *, rate: float, seconds: float, connections: int = 8,
              max_connections: int = 256, timeout: float = 10.0) -> LoadResult:
    """Send request i at start + i / rate whatever happens; latency runs from that scheduled moment."""
    driver = _Driver(port, requests, timeout=timeout)
    driver.result = result = LoadResult(mode=f"open loop, {rate:g} requests/s")
    total = min(len(requests), int(rate * seconds))
    cpu = time.process_time()
    driver.idle.extend(driver.open() for _ in range(connections))
    time.sleep(0.2)  # let the first connections be accepted before the clock starts
    started = driver.started = time.perf_counter()
    interval = 1.0 / rate
    next_index = 0
    while next_index < total or driver.busy:
        now = time.perf_counter()
        while next_index < total:
            scheduled = started + next_index * interval
            if scheduled > now:
                break
            if not driver.idle:
                if len(driver.busy) >= max_connections:
                    break
                driver.idle.append(driver.open())
            driver.send(driver.idle.popleft(), next_index, scheduled)
            next_index += 1
        if next_index < total:
            wait = started + next_index * interval - time.perf_counter()
            driver.poll(max(0.0, wait) if driver.idle or len(driver.busy) < max_connections else 0.05)
        else:
            driver.poll(0.05)
        now = time.perf_counter()
        driver.expire(now)
        if now > started + seconds + timeout:
            break
    result.not_sent = total - next_index
    result.elapsed = time.perf_counter() - started
    driver.close()
    result.generator_cpu = time.process_time() - cpu
    return result
