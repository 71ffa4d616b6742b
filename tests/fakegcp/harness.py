"""The in-process front door: `responses` callbacks that hand every request to a FakeGCP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import requests
import responses

if TYPE_CHECKING:
    from fakegcp.fake import FakeGCP

GOOGLE_HOSTS = (
    "https://run.googleapis.com",
    "https://secretmanager.googleapis.com",
    "https://artifactregistry.googleapis.com",
    "https://logging.googleapis.com",
    "https://cloudbuild.googleapis.com",
    "https://storage.googleapis.com",
    "https://sqladmin.googleapis.com",
)
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _callback(fake: FakeGCP):  # type: ignore[no-untyped-def]
    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        from fakegcp.fake import DroppedResponse

        try:
            status, headers, body = fake.handle(
                str(request.method), str(request.url), dict(request.headers), request.body
            )
        except DroppedResponse as exc:
            raise requests.exceptions.ConnectionError(
                f"Connection aborted: RemoteDisconnected('Remote end closed connection without response') "
                f"[fakegcp dropped the response of {exc}]"
            ) from None
        return status, headers, body

    return callback


@contextmanager
def mock(
    fake: FakeGCP, *extra_hosts: str, rsps: responses.RequestsMock | None = None
) -> Iterator[responses.RequestsMock]:
    """Route requests for Google's API hosts (and `extra_hosts`, e.g. "http://fake.local") to `fake`.

    Anything else is not mocked and fails as responses does (ConnectionError), never reaching a network.
    """
    hosts = GOOGLE_HOSTS + tuple(h.rstrip("/") for h in extra_hosts)
    own = rsps is None
    mocker = rsps or responses.RequestsMock(assert_all_requests_are_fired=False)
    for host in hosts:
        pattern = re.compile("^" + re.escape(host) + r"(/.*)?(\?.*)?$")
        for method in _METHODS:
            mocker.add_callback(method, pattern, callback=_callback(fake))
    if own:
        with mocker:
            yield mocker
    else:
        yield mocker
