"""`shipit infra bootstrap` through google-auth's AuthorizedSession against a small fake of the Storage JSON API.

tests/fakegcp has no Cloud Storage, and this needs three methods, so the fake lives here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from shipit.adapters.gcp import auth
from shipit.adapters.gcp.storage import StateBuckets
from shipit.config import load_config, resolve_target
from shipit.errors import ConflictError, RemoteError
from shipit.infra import bootstrap
from shipit.plan import Action

BASE = "http://127.0.0.1:9/storage/v1"


class FakeStorage:
    def __init__(self) -> None:
        self.buckets: dict[str, dict[str, Any]] = {}
        self.taken: set[str] = set()
        self.calls: list[tuple[str, str]] = []

    def get(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(("GET", request.url))
        name = request.url.rsplit("/", 1)[1]
        if name not in self.buckets:
            return 404, {}, json.dumps({"error": {"code": 404, "message": "Not Found"}})
        return 200, {}, json.dumps(self.buckets[name])

    def insert(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(("POST", request.url))
        body = json.loads(request.body)
        assert "project=" in request.url
        if body["name"] in self.taken:
            return 409, {}, json.dumps({"error": {"code": 409, "message": "Sorry, that name is not available."}})
        self.buckets[body["name"]] = body
        return 200, {}, json.dumps(body)

    def patch(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(("PATCH", request.url))
        name = request.url.rsplit("/", 1)[1]
        self.buckets[name].update(json.loads(request.body))
        return 200, {}, json.dumps(self.buckets[name])


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStorage]:
    monkeypatch.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN", "test-token")
    monkeypatch.setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE", "http://127.0.0.1:9/storage/v1/")
    auth.reset_cache()
    fake = FakeStorage()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        import re

        mock.add_callback(responses.GET, re.compile(BASE + "/b/[^/?]+$"), callback=fake.get)
        mock.add_callback(responses.POST, re.compile(BASE + r"/b\?project=.*"), callback=fake.insert)
        mock.add_callback(responses.PATCH, re.compile(BASE + "/b/[^/?]+$"), callback=fake.patch)
        yield fake
    auth.reset_cache()


def _target(tmp_path: Path, extra: str = "") -> Any:
    (tmp_path / "shipit.yaml").write_text(
        "version: 1\napp: shop\nenvironments:\n  prod: {project: shop-prod-1, region: europe-west1}\n"
        "services:\n  web: {}\n" + extra
    )
    return resolve_target(load_config(tmp_path / "shipit.yaml"), "prod")


def test_creates_a_versioned_private_bucket_then_is_a_no_op(storage: FakeStorage, tmp_path: Path) -> None:
    target = _target(tmp_path)
    buckets = StateBuckets()
    plan = bootstrap.plan(target, buckets)
    assert [c.action for c in plan] == [Action.CREATE]
    bootstrap.apply(target, buckets, plan)
    created = storage.buckets["shop-prod-1-shipit-tfstate"]
    assert created["versioning"] == {"enabled": True}
    assert created["iamConfiguration"]["publicAccessPrevention"] == "enforced"
    assert created["iamConfiguration"]["uniformBucketLevelAccess"] == {"enabled": True}
    assert created["location"] == "europe-west1"
    again = bootstrap.plan(target, buckets)
    assert not again.has_changes


def test_turns_versioning_on_for_an_existing_bucket(storage: FakeStorage, tmp_path: Path) -> None:
    storage.buckets["my-state"] = {"name": "my-state", "location": "EU", "versioning": {"enabled": False}}
    target = _target(tmp_path, "infra: {bucket: my-state}\n")
    plan = bootstrap.plan(target, StateBuckets())
    assert [c.action for c in plan] == [Action.UPDATE]
    bootstrap.apply(target, StateBuckets(), plan)
    assert storage.buckets["my-state"]["versioning"] == {"enabled": True}


def test_taken_name_and_local_backend(storage: FakeStorage, tmp_path: Path) -> None:
    storage.taken.add("shop-prod-1-shipit-tfstate")
    target = _target(tmp_path)
    plan = bootstrap.plan(target, StateBuckets())
    with pytest.raises(ConflictError) as caught:
        bootstrap.apply(target, StateBuckets(), plan)
    assert "infra.bucket" in (caught.value.hint or "")
    local = _target(tmp_path, "infra: {backend: local}\n")
    calls = len(storage.calls)
    assert not bootstrap.plan(local, StateBuckets()).has_changes
    assert len(storage.calls) == calls, "no remote call for a local backend"
    assert isinstance(caught.value, RemoteError)
