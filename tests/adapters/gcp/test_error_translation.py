"""google.api_core errors from the real REST clients become one-line ShipitErrors that name the resource and a fix."""

from __future__ import annotations

import pytest

from fakegcp import FakeGCP
from shipit.adapters.gcp.clients import GcpClients
from shipit.adapters.gcp.errors import translated, with_retries
from shipit.errors import ConflictError, RemoteError

GET = "secretmanager.projects.secrets.get"
NAME = "projects/acme-prod/secrets/acme-prod-KEY"


def _get(clients: GcpClients) -> object:
    with translated(api="secretmanager", action="read", resource="secret acme-prod-KEY"):
        return with_retries(lambda: clients.secret_manager.get_secret(name=NAME), sleep=lambda _: None)


@pytest.fixture
def clients(fake_gcp_mock: FakeGCP, gcp_token: str) -> GcpClients:
    fake_gcp_mock.secrets.seed("acme-prod", "acme-prod-KEY", "v1")
    return GcpClients()


def test_api_not_enabled_names_the_api_and_the_command(fake_gcp_mock: FakeGCP, clients: GcpClients) -> None:
    fake_gcp_mock.faults.fail(
        GET,
        status=403,
        message="Secret Manager API has not been used in project 123 "
        "before or it is disabled. Enable it... SERVICE_DISABLED",
    )
    with pytest.raises(RemoteError) as info:
        _get(clients)
    assert info.value.message == (
        "could not read secret acme-prod-KEY: the secretmanager.googleapis.com API is not enabled"
    )
    assert info.value.hint == "run `gcloud services enable secretmanager.googleapis.com` or `shipit infra apply`"


def test_permission_denied_names_the_role(fake_gcp_mock: FakeGCP, clients: GcpClients) -> None:
    fake_gcp_mock.faults.fail(GET, status=403, message="Permission 'secretmanager.secrets.get' denied")
    with pytest.raises(RemoteError) as info:
        _get(clients)
    assert info.value.message.startswith("could not read secret acme-prod-KEY: permission denied (")
    assert info.value.hint == "grant roles/secretmanager.admin"


def test_rejected_credentials(fake_gcp_mock: FakeGCP, clients: GcpClients) -> None:
    fake_gcp_mock.faults.fail(GET, status=401, message="Request had invalid authentication credentials.")
    with pytest.raises(RemoteError) as info:
        _get(clients)
    assert "credentials rejected" in info.value.message
    assert "gcloud auth application-default login" in (info.value.hint or "")


def test_a_concurrent_change_is_a_conflict(fake_gcp_mock: FakeGCP, clients: GcpClients) -> None:
    fake_gcp_mock.faults.fail(GET, status=409, message="etag mismatch: the secret was modified")
    with pytest.raises(ConflictError) as info:
        _get(clients)
    assert "changed by someone else" in info.value.message


def test_429_and_503_are_retried_then_reported(fake_gcp_mock: FakeGCP, clients: GcpClients) -> None:
    fake_gcp_mock.faults.fail(GET, status=503, times=2)
    assert _get(clients) is not None
    assert len(fake_gcp_mock.calls_to(GET)) == 3
    fake_gcp_mock.reset_calls()
    fake_gcp_mock.faults.fail(GET, status=429, times=None)
    with pytest.raises(RemoteError, match="quota exceeded after retries"):
        _get(clients)
    assert len(fake_gcp_mock.calls_to(GET)) == 6


def test_an_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch, gcp_token: str) -> None:
    monkeypatch.setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER", "http://127.0.0.1:9")
    with pytest.raises(RemoteError) as info:
        _get(GcpClients())
    assert info.value.message == "could not read secret acme-prod-KEY: cannot reach the secretmanager API"


def test_a_missing_resource_is_a_typed_not_found(fake_gcp_mock: FakeGCP, gcp_token: str) -> None:
    from shipit.adapters.gcp.run import CloudRunClient
    from shipit.errors import NotFound

    clients = GcpClients()
    with pytest.raises(NotFound, match="could not read secret acme-prod-KEY: not found"):
        _get(clients)
    # Readers answer None for it (never by matching the message); every other error still raises.
    run = CloudRunClient(clients)
    assert run.get_service("projects/acme-prod/locations/us-central1/services/nope") is None
    assert run.get_revision("projects/acme-prod/locations/us-central1/services/nope/revisions/nope-1") is None
    fake_gcp_mock.faults.fail("run.projects.locations.services.get", status=403, times=1)
    with pytest.raises(RemoteError, match="permission denied"):
        run.get_service("projects/acme-prod/locations/us-central1/services/nope")
