"""A size limit on every answer from a Google API, enforced while reading it.

requests reads a whole body into memory before the client library parses it; a broken proxy, a
misdirected endpoint override or a hostile server could answer with gigabytes. Each session shipit
uses (the REST transport of every google-cloud-* client, and the AuthorizedSessions of the Logging
and Storage adapters) gets this adapter: a body larger than the limit is refused after reading at most
limit + one chunk, whether or not the server announced its length.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

# The largest answer shipit expects is a page of 1,000 log entries or of secrets (a few MiB at most).
RESPONSE_LIMIT = 32 * 1024 * 1024
_CHUNK = 64 * 1024


class ResponseTooLarge(requests.RequestException):
    """An API answered with more bytes than shipit ever expects."""


class BoundedAdapter(HTTPAdapter):
    def __init__(self, limit: int = RESPONSE_LIMIT) -> None:
        super().__init__()
        self.limit = limit

    def _refuse(self, response: requests.Response, size: str) -> ResponseTooLarge:
        response.close()
        mib = self.limit // (1024 * 1024)
        limit = f"{mib} MiB" if mib else f"{self.limit} bytes"
        return ResponseTooLarge(f"the API answered with {size}, more than shipit accepts ({limit})")

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        # Always streamed from the socket, so the limit applies before the body is in memory.
        response = super().send(request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > self.limit:
            raise self._refuse(response, f"{announced} bytes")
        body = bytearray()
        for chunk in response.iter_content(_CHUNK):
            body.extend(chunk)
            if len(body) > self.limit:
                raise self._refuse(response, f"over {len(body)} bytes")
        # What requests does after reading a body itself: later reads come from here.
        response._content = bytes(body)
        response._content_consumed = True
        return response


def bound_session(session: Any, limit: int = RESPONSE_LIMIT) -> Any:
    """``session`` with every http(s) request going through a BoundedAdapter (returned for chaining)."""
    adapter = BoundedAdapter(limit)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def authorized_session() -> Any:
    """An AuthorizedSession with shipit's credentials, bounded: for the APIs shipit calls without a
    google-cloud-* client (Cloud Logging reads, the state bucket)."""
    from google.auth.transport.requests import AuthorizedSession

    from shipit.adapters.gcp.auth import credentials

    creds, _ = credentials()
    return bound_session(AuthorizedSession(creds))  # type: ignore[no-untyped-call]


def bound_client(client: Any, limit: int = RESPONSE_LIMIT) -> Any:
    """A google-cloud-* REST client whose transport session is bounded (a gRPC client is left as it is)."""
    session = getattr(getattr(client, "_transport", None), "_session", None)
    if session is not None:
        bound_session(session, limit)
    return client
