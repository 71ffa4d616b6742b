"""The fake Cloud SQL Admin `databases`, reached through shipit's adapter (requests + google-auth), both doors."""

from __future__ import annotations

import json

import pytest
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession

from fakegcp.fixtures import GcpEndpoint
from shipit.adapters.gcp.sqladmin import CloudSqlDatabases
from shipit.errors import NotFound, RemoteError

PROJECT = "acme-staging"


@pytest.fixture
def api(gcp: GcpEndpoint, monkeypatch: pytest.MonkeyPatch) -> CloudSqlDatabases:
    if gcp.api_endpoint:
        monkeypatch.setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_SQLADMIN", gcp.api_endpoint)
    else:
        monkeypatch.delenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_SQLADMIN", raising=False)
    return CloudSqlDatabases(AuthorizedSession(AnonymousCredentials()))  # type: ignore[no-untyped-call]


def test_insert_is_idempotent_and_delete_drops(gcp: GcpEndpoint, api: CloudSqlDatabases) -> None:
    gcp.fake.sql.add_instance(PROJECT, "acme-main", ("postgres", "main"))
    assert api.get_database(PROJECT, "acme-main", "main_pr_1") is None
    assert api.insert_database(PROJECT, "acme-main", "main_pr_1") is True
    assert api.insert_database(PROJECT, "acme-main", "main_pr_1") is False  # 409: there already
    assert gcp.fake.calls_to("sql.databases.insert")[-1].status == 409
    assert api.list_databases(PROJECT, "acme-main") == ["main", "main_pr_1", "postgres"]
    found = api.get_database(PROJECT, "acme-main", "main_pr_1")
    assert found is not None and found["instance"] == "acme-main"
    assert api.delete_database(PROJECT, "acme-main", "main_pr_1") is True
    assert api.delete_database(PROJECT, "acme-main", "main_pr_1") is False
    assert api.list_databases(PROJECT, "acme-main") == ["main", "postgres"]


def test_an_unknown_instance_is_not_found(gcp: GcpEndpoint, api: CloudSqlDatabases) -> None:
    with pytest.raises((NotFound, RemoteError)):
        api.insert_database(PROJECT, "nope", "main_pr_1")


def test_a_body_the_discovery_document_does_not_know_is_refused(gcp: GcpEndpoint) -> None:
    gcp.fake.sql.add_instance(PROJECT, "acme-main")
    base = "https://sqladmin.googleapis.com/v1/projects/acme-staging/instances/acme-main"
    status, _, _ = gcp.fake.handle("POST", f"{base}/databases", {}, json.dumps({"nam": "x"}))
    assert status == 400
    # Other Cloud SQL resources are not faked: a 404 as for any unknown path.
    assert gcp.fake.handle("GET", base, {}, None)[0] == 404
