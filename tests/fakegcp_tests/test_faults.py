from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.protobuf import field_mask_pb2

from fakegcp_tests.helpers import PARENT, PROJECT, Clients

SECRET = f"projects/{PROJECT}/secrets/s"
SERVICE = f"{PARENT}/services/api"
JOB = f"{PARENT}/jobs/migrate"
TEMPLATE = {"containers": [{"image": "img:1"}]}


def _seed(c: Clients) -> None:
    c.fake.secrets.seed(PROJECT, "s", "v1")
    c.services.create_service(parent=PARENT, service_id="api", service={"template": TEMPLATE}).result()
    c.jobs.create_job(parent=PARENT, job_id="migrate", job={"template": {"template": TEMPLATE}}).result()
    c.fake.artifacts.add_repository(f"{PARENT}/repositories/base")
    c.fake.reset_calls()


def _image(c: Clients, image: str) -> Any:
    s = c.services.get_service(name=SERVICE)
    s.template.containers[0].image = image
    return s


# (method id, the call through the real client)
MUTATIONS: list[tuple[str, Callable[[Clients], Any]]] = [
    (
        "secretmanager.projects.secrets.create",
        lambda c: c.secrets.create_secret(
            parent=f"projects/{PROJECT}", secret_id="n", secret={"replication": {"automatic": {}}}
        ),
    ),
    (
        "secretmanager.projects.secrets.addVersion",
        lambda c: c.secrets.add_secret_version(parent=SECRET, payload={"data": b"v2"}),
    ),
    (
        "secretmanager.projects.secrets.patch",
        lambda c: c.secrets.update_secret(
            secret={"name": SECRET, "labels": {"a": "b"}},
            update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
        ),
    ),
    ("secretmanager.projects.secrets.delete", lambda c: c.secrets.delete_secret(name=SECRET)),
    (
        "secretmanager.projects.secrets.versions.disable",
        lambda c: c.secrets.disable_secret_version(name=f"{SECRET}/versions/1"),
    ),
    (
        "secretmanager.projects.secrets.versions.enable",
        lambda c: c.secrets.enable_secret_version(name=f"{SECRET}/versions/1"),
    ),
    (
        "secretmanager.projects.secrets.versions.destroy",
        lambda c: c.secrets.destroy_secret_version(name=f"{SECRET}/versions/1"),
    ),
    (
        "secretmanager.projects.secrets.setIamPolicy",
        lambda c: c.secrets.set_iam_policy(request={"resource": SECRET, "policy": {}}),
    ),
    (
        "run.projects.locations.services.create",
        lambda c: c.services.create_service(parent=PARENT, service_id="web", service={"template": TEMPLATE}).result(),
    ),
    (
        "run.projects.locations.services.patch",
        lambda c: c.services.update_service(service=_image(c, "img:2")).result(),
    ),
    ("run.projects.locations.services.delete", lambda c: c.services.delete_service(name=SERVICE).result()),
    (
        "run.projects.locations.services.setIamPolicy",
        lambda c: c.services.set_iam_policy(request={"resource": SERVICE, "policy": {}}),
    ),
    (
        "run.projects.locations.jobs.create",
        lambda c: c.jobs.create_job(parent=PARENT, job_id="other", job={"template": {"template": TEMPLATE}}).result(),
    ),
    ("run.projects.locations.jobs.run", lambda c: c.jobs.run_job(name=JOB).result()),
    (
        "artifactregistry.projects.locations.repositories.create",
        lambda c: c.artifacts.create_repository(
            parent=PARENT, repository_id="apps", repository={"format_": "DOCKER"}
        ).result(),
    ),
]


@pytest.mark.parametrize("status", [429, 500, 503])
@pytest.mark.parametrize(("method_id", "call"), MUTATIONS, ids=[m for m, _ in MUTATIONS])
def test_injected_error_then_retry_succeeds(
    mocked: Clients, method_id: str, call: Callable[[Clients], Any], status: int
) -> None:
    _seed(mocked)
    mocked.fake.faults.fail(method_id, status=status)
    with pytest.raises(exceptions.GoogleAPICallError) as err:
        call(mocked)
    assert err.value.code == status
    call(mocked)  # the fault hit once; the retry goes through
    assert [c.status for c in mocked.fake.calls_to(method_id)] == [status, 200]


def test_injected_error_is_not_applied(mocked: Clients) -> None:
    _seed(mocked)
    mocked.fake.faults.fail("secretmanager.projects.secrets.addVersion", status=503)
    with pytest.raises(exceptions.ServiceUnavailable):
        mocked.secrets.add_secret_version(parent=SECRET, payload={"data": b"v2"})
    assert mocked.fake.secrets.version_states(SECRET) == {"1": "ENABLED"}


def test_nth_and_times(mocked: Clients) -> None:
    _seed(mocked)
    mid = "secretmanager.projects.secrets.versions.access"
    mocked.fake.faults.fail(mid, status=500, nth=2, times=2)
    results = []
    for _ in range(4):
        try:
            mocked.secrets.access_secret_version(name=f"{SECRET}/versions/1")
            results.append(200)
        except exceptions.GoogleAPICallError as exc:
            results.append(exc.code)
    assert results == [200, 500, 500, 200]


def test_fail_every(mocked: Clients) -> None:
    _seed(mocked)
    mocked.fake.faults.fail_every("secretmanager.projects.secrets.get", status=429, every=2)
    codes = []
    for _ in range(4):
        try:
            mocked.secrets.get_secret(name=SECRET)
            codes.append(200)
        except exceptions.TooManyRequests:
            codes.append(429)
    assert codes == [429, 200, 429, 200]


@pytest.mark.parametrize(("method_id", "call"), MUTATIONS[:2] + MUTATIONS[9:10], ids=["create", "add", "patch"])
def test_dropped_response_is_applied(clients: Clients, method_id: str, call: Callable[[Clients], Any]) -> None:
    _seed(clients)
    clients.fake.faults.drop_response(method_id)
    with pytest.raises(requests.ConnectionError):
        call(clients)
    assert clients.fake.calls_to(method_id)[0].dropped
    if method_id.endswith("addVersion"):
        assert clients.fake.secrets.version_states(SECRET) == {"1": "ENABLED", "2": "ENABLED"}
    if method_id.endswith("secrets.create"):
        with pytest.raises(exceptions.Conflict):  # the write happened: a blind retry conflicts
            call(clients)
    if method_id.endswith("services.patch"):
        assert clients.services.get_service(name=SERVICE).template.containers[0].image == "img:2"


def test_latency(clients: Clients) -> None:
    _seed(clients)
    clients.fake.faults.latency(0.2, "secretmanager.projects.secrets.get")
    start = time.monotonic()
    clients.secrets.get_secret(name=SECRET)
    assert time.monotonic() - start >= 0.2
    clients.fake.faults.latency(0, "secretmanager.projects.secrets.get")
    start = time.monotonic()
    clients.secrets.get_secret(name=SECRET)
    assert time.monotonic() - start < 0.2


def test_call_log_helpers(mocked: Clients) -> None:
    _seed(mocked)
    mocked.secrets.get_secret(name=SECRET)
    mocked.secrets.add_secret_version(parent=SECRET, payload={"data": b"x"})
    mocked.services.get_iam_policy(request={"resource": SERVICE})
    assert [c.method_id for c in mocked.fake.mutating_calls()] == ["secretmanager.projects.secrets.addVersion"]
    call = mocked.fake.calls_to("secretmanager.projects.secrets.addVersion")[0]
    assert call.http_method == "POST" and call.body == {"payload": {"data": "eA=="}} and call.status == 200
    mocked.fake.reset_calls()
    assert mocked.fake.calls == []
