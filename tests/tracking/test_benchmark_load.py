"""The tracking benchmark's load generator counts what the server answered: it judges the speed targets."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks import http_load


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn answers

    def do_GET(self):
        if self.path.startswith("/drop"):
            self.close_connection = True  # hang up without an answer
            return
        if self.path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n0\r\n\r\n")
            return
        body = b"moved"
        self.send_response(302)
        self.send_header("Location", "https://shop.example/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    request_queue_size = 64  # the generator opens its connections at once
    daemon_threads = True


@pytest.fixture
def port():
    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_closed_loop_sends_every_request_once_and_counts_the_answers(port):
    requests = [http_load.get_request(f"/go/{n}") for n in range(40)]
    result = http_load.closed_loop(port, requests, connections=4, seconds=30)
    assert result.statuses == {302: 40}
    assert sorted(index for index, _status in result.answers) == list(range(40))
    assert result.errors({302}) == 0
    assert result.connections_opened == 4  # kept alive


def test_a_dropped_connection_is_an_error_and_the_run_goes_on(port):
    requests = [http_load.get_request(path) for path in ["/go/1", "/drop", "/go/2", "/go/3"]]
    result = http_load.closed_loop(port, requests, connections=1, seconds=30)
    assert result.statuses == {302: 3, 0: 1}
    assert result.errors({302}) == 1


def test_open_loop_sends_the_scheduled_number_of_requests(port):
    requests = [http_load.get_request(f"/go/{n}") for n in range(1000)]
    result = http_load.open_loop(port, requests, rate=200, seconds=0.25)
    assert result.statuses == {302: 50}
    assert result.not_sent == 0
    assert result.requests == len(result.latencies) == 50


def test_chunked_answers_are_read_to_their_end(port):
    result = http_load.closed_loop(port, [http_load.get_request("/chunked")] * 3, connections=1, seconds=30)
    assert result.statuses == {200: 3}
