"""Every answer of a Google API is read with a size limit: a huge body is refused while it streams in,
announced or not, and reported as a one-line error; normal answers pass untouched."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shipit.adapters.gcp.clients import GcpClients
from shipit.adapters.gcp.errors import translated
from shipit.errors import RemoteError

LIMIT = 64 * 1024


class Server:
    """Answers every request with ``size`` bytes of a JSON body; ``chunked`` hides the length."""

    def __init__(self) -> None:
        self.size = 10
        self.chunked = False
        self.sent = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body = b'{"secrets": []' + b" " * max(0, outer.size - 16) + b"}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if outer.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for start in range(0, len(body), 8192):
                            part = body[start : start + 8192]
                            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                            outer.sent += len(part)
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                else:
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    outer.sent += len(body)

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, gcp_token: str) -> Iterator[Server]:
    srv = Server()
    monkeypatch.setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER", srv.url)
    yield srv
    srv.httpd.shutdown()


def _list(limit: int = LIMIT) -> list[Any]:
    client = GcpClients(response_limit=limit).secret_manager
    with translated(api="secretmanager", action="list", resource="secrets"):
        return list(client.list_secrets(parent="projects/acme-staging"))


def test_a_normal_answer_passes(server: Server) -> None:
    server.size = LIMIT - 1024
    assert _list() == []


def test_an_announced_huge_answer_is_refused_before_its_body(server: Server) -> None:
    server.size = 50 * LIMIT
    with pytest.raises(RemoteError) as err:
        _list()
    assert "more than shipit accepts (65536 bytes)" in str(err.value) and "\n" not in str(err.value)


def test_an_unannounced_huge_answer_is_cut_off_while_streaming(server: Server) -> None:
    server.chunked, server.size = True, 200 * LIMIT
    with pytest.raises(RemoteError, match="more than shipit accepts"):
        _list()


def test_the_default_limit_leaves_room_for_the_largest_page() -> None:
    from shipit.adapters.gcp.bounded import RESPONSE_LIMIT

    # A page of 1,000 log entries of a few KiB each: the largest answer shipit asks for.
    assert RESPONSE_LIMIT >= 1000 * 16 * 1024
