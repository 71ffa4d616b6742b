"""The over-the-wire front door: a threaded HTTP server on 127.0.0.1 serving one FakeGCP."""

from __future__ import annotations

import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from fakegcp.fake import DroppedResponse, FakeGCP


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; without TCP_NODELAY the second waits for a delayed ACK
    # (~40 ms), which would swamp the latency that tests and benchmarks inject on purpose.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or "127.0.0.1"
        try:
            status, headers, payload = self.server.fake.handle(
                self.command, f"http://{host}{self.path}", dict(self.headers.items()), body
            )
        except DroppedResponse:
            # Reset the connection without answering: the client sees "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeGCP) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


class FakeGCPServer:
    """Serve `fake` over HTTP: `with FakeGCPServer(fake) as url: ...` or `.start()` / `.stop()`."""

    def __init__(self, fake: FakeGCP | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake or FakeGCP()
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        self._server = _Server(self._address, self.fake)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakegcp-server", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
