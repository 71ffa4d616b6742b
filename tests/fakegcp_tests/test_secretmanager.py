from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.protobuf import field_mask_pb2

from fakegcp.model import crc32c, project_number
from fakegcp_tests.helpers import PROJECT, Clients

GLOBAL = f"projects/{PROJECT}"


def _create(c: Clients, secret_id: str = "db-password", **labels: str) -> str:
    secret = c.secrets.create_secret(
        parent=GLOBAL, secret_id=secret_id, secret={"replication": {"automatic": {}}, "labels": labels}
    )
    return secret.name


def test_create_get_and_project_number_in_names(clients: Clients) -> None:
    name = _create(clients, app="acme")
    assert name == f"projects/{project_number(PROJECT)}/secrets/db-password"
    got = clients.secrets.get_secret(name=f"{GLOBAL}/secrets/db-password")
    assert got.labels["app"] == "acme"
    assert got.etag.startswith('"') and got.create_time.year > 2000
    assert got.replication.automatic is not None


def test_create_existing_is_conflict_409(clients: Clients) -> None:
    _create(clients)
    with pytest.raises(exceptions.Conflict) as err:
        _create(clients)
    assert err.value.code == 409
    assert "already exists" in err.value.message


@pytest.mark.parametrize("bad_id", ["has space", "a" * 256, "dot.ted", "ünï"])
def test_bad_secret_id_is_400(mocked: Clients, bad_id: str) -> None:
    with pytest.raises(exceptions.BadRequest):
        _create(mocked, bad_id)


def test_user_managed_replication_and_missing_replication(mocked: Clients) -> None:
    s = mocked.secrets.create_secret(
        parent=GLOBAL,
        secret_id="um",
        secret={"replication": {"user_managed": {"replicas": [{"location": "us-east1"}]}}},
    )
    assert s.replication.user_managed.replicas[0].location == "us-east1"
    with pytest.raises(exceptions.BadRequest):
        mocked.secrets.create_secret(parent=GLOBAL, secret_id="none", secret={})


def test_regional_secrets(mocked: Clients) -> None:
    parent = f"projects/{PROJECT}/locations/us-central1"
    s = mocked.secrets.create_secret(parent=parent, secret_id="reg", secret={})
    assert s.name.endswith("/locations/us-central1/secrets/reg")
    v = mocked.secrets.add_secret_version(parent=s.name, payload={"data": b"x"})
    assert mocked.secrets.access_secret_version(name=v.name).payload.data == b"x"


def test_list_paginates_and_filters_on_labels(mocked: Clients) -> None:
    for i in range(7):
        _create(mocked, f"s{i}", team="a" if i % 2 else "b")
    pager = mocked.secrets.list_secrets(request={"parent": GLOBAL, "page_size": 3})
    pages = list(pager.pages)
    assert [len(p.secrets) for p in pages] == [3, 3, 1]
    assert pages[0].total_size == 7
    names = [
        s.name.rsplit("/", 1)[1]
        for s in mocked.secrets.list_secrets(request={"parent": GLOBAL, "filter": "labels.team=a"})
    ]
    assert names == ["s1", "s3", "s5"]
    assert len(list(mocked.secrets.list_secrets(request={"parent": GLOBAL, "filter": "labels.team:*"}))) == 7
    assert list(mocked.secrets.list_secrets(request={"parent": GLOBAL, "filter": "labels.nope=x"})) == []
    calls = mocked.fake.calls_to("secretmanager.projects.secrets.list")
    assert calls[1].query["pageToken"]


def test_patch_labels_with_update_mask_and_etag(clients: Clients) -> None:
    name = _create(clients, a="1")
    current = clients.secrets.get_secret(name=name)
    updated = clients.secrets.update_secret(
        secret={"name": name, "labels": {"b": "2"}, "etag": current.etag},
        update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
    )
    assert dict(updated.labels) == {"b": "2"}
    assert updated.etag != current.etag
    with pytest.raises(exceptions.Conflict) as err:  # stale etag
        clients.secrets.update_secret(
            secret={"name": name, "labels": {"c": "3"}, "etag": current.etag},
            update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
        )
    assert err.value.code == 409
    with pytest.raises(exceptions.BadRequest):  # replication is immutable
        clients.secrets.update_secret(
            secret={"name": name, "replication": {"automatic": {}}},
            update_mask=field_mask_pb2.FieldMask(paths=["replication"]),
        )


def test_delete_with_etag(mocked: Clients) -> None:
    name = _create(mocked)
    etag = mocked.secrets.get_secret(name=name).etag
    with pytest.raises(exceptions.Conflict):
        mocked.secrets.delete_secret(request={"name": name, "etag": '"stale"'})
    mocked.secrets.delete_secret(request={"name": name, "etag": etag})
    with pytest.raises(exceptions.NotFound):
        mocked.secrets.get_secret(name=name)


def test_versions_lifecycle(clients: Clients) -> None:
    name = _create(clients)
    v1 = clients.secrets.add_secret_version(parent=name, payload={"data": b"one"})
    v2 = clients.secrets.add_secret_version(parent=name, payload={"data": b"two", "data_crc32c": crc32c(b"two")})
    assert v1.name.endswith("/versions/1") and v2.name.endswith("/versions/2")
    assert v2.client_specified_payload_checksum
    latest = clients.secrets.access_secret_version(name=f"{name}/versions/latest")
    assert latest.name == v2.name
    assert latest.payload.data == b"two" and latest.payload.data_crc32c == crc32c(b"two")
    assert clients.secrets.get_secret_version(name=f"{name}/versions/1").state.name == "ENABLED"

    disabled = clients.secrets.disable_secret_version(request={"name": v1.name, "etag": v1.etag})
    assert disabled.state.name == "DISABLED"
    with pytest.raises(exceptions.BadRequest) as err:
        clients.secrets.access_secret_version(name=v1.name)
    assert err.value.code == 400 and "DISABLED" in err.value.message
    with pytest.raises(exceptions.Conflict):  # etag of v1 changed when it was disabled
        clients.secrets.enable_secret_version(request={"name": v1.name, "etag": v1.etag})
    assert clients.secrets.enable_secret_version(name=v1.name).state.name == "ENABLED"
    destroyed = clients.secrets.destroy_secret_version(name=v1.name)
    assert destroyed.state.name == "DESTROYED" and destroyed.destroy_time.year > 2000
    with pytest.raises(exceptions.BadRequest):
        clients.secrets.access_secret_version(name=v1.name)
    with pytest.raises(exceptions.BadRequest):
        clients.secrets.enable_secret_version(name=v1.name)

    v3 = clients.secrets.add_secret_version(parent=name, payload={"data": b"three"})
    assert v3.name.endswith("/versions/3")
    clients.secrets.disable_secret_version(name=v3.name)
    with pytest.raises(exceptions.BadRequest):  # latest = newest version, even when disabled
        clients.secrets.access_secret_version(name=f"{name}/versions/latest")


def test_list_versions_newest_first_paginated(mocked: Clients) -> None:
    name = _create(mocked)
    for i in range(5):
        mocked.secrets.add_secret_version(parent=name, payload={"data": str(i).encode()})
    pages = list(mocked.secrets.list_secret_versions(request={"parent": name, "page_size": 2}).pages)
    ids = [v.name.rsplit("/", 1)[1] for p in pages for v in p.versions]
    assert ids == ["5", "4", "3", "2", "1"] and len(pages) == 3
    mocked.secrets.disable_secret_version(name=f"{name}/versions/2")
    enabled = mocked.secrets.list_secret_versions(request={"parent": name, "filter": "state:ENABLED"})
    assert len(list(enabled)) == 4


def test_checksum_mismatch_and_size_limit(clients: Clients) -> None:
    name = _create(clients)
    with pytest.raises(exceptions.BadRequest):
        clients.secrets.add_secret_version(parent=name, payload={"data": b"x", "data_crc32c": 12345})
    with pytest.raises(exceptions.BadRequest):
        clients.secrets.add_secret_version(parent=name, payload={"data": b"x" * 65537})
    assert clients.secrets.add_secret_version(parent=name, payload={"data": b"x" * 65536})
    assert clients.fake.secrets.version_states(name) == {"1": "ENABLED"}


def test_not_found(mocked: Clients) -> None:
    with pytest.raises(exceptions.NotFound):
        mocked.secrets.get_secret(name=f"{GLOBAL}/secrets/missing")
    name = _create(mocked)
    with pytest.raises(exceptions.NotFound):
        mocked.secrets.access_secret_version(name=f"{name}/versions/latest")
    with pytest.raises(exceptions.NotFound):
        mocked.secrets.get_secret_version(name=f"{name}/versions/9")


def test_iam_policy(mocked: Clients) -> None:
    name = _create(mocked)
    policy = mocked.secrets.get_iam_policy(request={"resource": name})
    new = mocked.secrets.set_iam_policy(
        request={
            "resource": name,
            "policy": {
                "bindings": [{"role": "roles/secretmanager.secretAccessor", "members": ["serviceAccount:a@b.c"]}],
                "etag": policy.etag,
            },
        }
    )
    assert new.bindings[0].members == ["serviceAccount:a@b.c"]
    with pytest.raises(exceptions.Conflict):
        mocked.secrets.set_iam_policy(request={"resource": name, "policy": {"bindings": [], "etag": policy.etag}})


def test_seed_helper(mocked: Clients) -> None:
    name = mocked.fake.secrets.seed(PROJECT, "API_KEY", "v1", "v2", labels={"managed-by": "shipit"})
    assert mocked.secrets.access_secret_version(name=f"{name}/versions/latest").payload.data == b"v2"
    assert mocked.fake.secrets.value(f"{GLOBAL}/secrets/API_KEY", "1") == b"v1"
