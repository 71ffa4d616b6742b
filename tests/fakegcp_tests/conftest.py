from __future__ import annotations

from typing import Any

import pytest

from fakegcp.fixtures import GcpEndpoint, fake_gcp, fake_gcp_mock, fake_gcp_server, gcp
from fakegcp_tests.helpers import Clients, make_clients

__all__ = ["fake_gcp", "fake_gcp_mock", "fake_gcp_server", "gcp"]


@pytest.fixture
def clients(gcp: GcpEndpoint) -> Clients:
    """Real google-cloud-* clients (REST transport) wired to the fake, once per front door."""
    return make_clients(gcp)


@pytest.fixture
def mocked(fake_gcp_mock: Any) -> Clients:
    """Real clients wired to the fake through responses only (for the bulk of the behaviour tests)."""
    return make_clients(GcpEndpoint(fake_gcp_mock, "responses", None))
