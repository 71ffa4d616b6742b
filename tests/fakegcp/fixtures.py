"""pytest fixtures. Import the ones you need into a conftest.py:

from fakegcp.fixtures import fake_gcp, fake_gcp_mock, fake_gcp_server, gcp  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from fakegcp.control import FakeControl
from fakegcp.fake import FakeGCP
from fakegcp.harness import mock
from fakegcp.server import FakeGCPServer


@dataclass(frozen=True)
class GcpEndpoint:
    """Where clients reach the fake: `api_endpoint` None means Google's own hosts (through responses)."""

    fake: FakeGCP
    front_door: str
    api_endpoint: str | None

    def client_options(self) -> dict[str, Any]:
        return {"api_endpoint": self.api_endpoint} if self.api_endpoint else {}

    def control(self) -> FakeControl | None:
        return FakeControl(self.api_endpoint) if self.api_endpoint else None


@pytest.fixture
def fake_gcp() -> FakeGCP:
    """A fresh, empty fake."""
    return FakeGCP()


@pytest.fixture
def fake_gcp_mock(fake_gcp: FakeGCP) -> Iterator[FakeGCP]:
    """The fake, reached in-process: requests to Google's API hosts go to it through `responses`."""
    with mock(fake_gcp):
        yield fake_gcp


@pytest.fixture
def fake_gcp_server(fake_gcp: FakeGCP) -> Iterator[FakeGCPServer]:
    """The fake, served over HTTP on 127.0.0.1; `.url` is the api_endpoint to give the clients."""
    server = FakeGCPServer(fake_gcp)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["responses", "http"])
def gcp(request: pytest.FixtureRequest, fake_gcp: FakeGCP) -> Iterator[GcpEndpoint]:
    """The fake through each front door in turn (the test runs twice)."""
    if request.param == "responses":
        with mock(fake_gcp):
            yield GcpEndpoint(fake_gcp, "responses", None)
    else:
        with FakeGCPServer(fake_gcp) as url:
            yield GcpEndpoint(fake_gcp, "http", url)
