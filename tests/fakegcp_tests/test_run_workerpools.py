"""fakegcp's Cloud Run worker pools through the real run_v2.WorkerPoolsClient (REST), both front doors."""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2

from fakegcp.fixtures import GcpEndpoint
from fakegcp_tests.helpers import PARENT

LATEST = run_v2.InstanceSplitAllocationType.INSTANCE_SPLIT_ALLOCATION_TYPE_LATEST
REVISION = run_v2.InstanceSplitAllocationType.INSTANCE_SPLIT_ALLOCATION_TYPE_REVISION
SUCCEEDED = run_v2.Condition.State.CONDITION_SUCCEEDED
FAILED = run_v2.Condition.State.CONDITION_FAILED


def _client(endpoint: GcpEndpoint) -> run_v2.WorkerPoolsClient:
    return run_v2.WorkerPoolsClient(
        transport="rest", credentials=AnonymousCredentials(), client_options=endpoint.client_options()
    )


@pytest.fixture
def pools(gcp: GcpEndpoint) -> run_v2.WorkerPoolsClient:
    return _client(gcp)


@pytest.fixture
def mocked_pools(fake_gcp_mock: Any) -> tuple[run_v2.WorkerPoolsClient, Any]:
    return _client(GcpEndpoint(fake_gcp_mock, "responses", None)), fake_gcp_mock


def _create(client: run_v2.WorkerPoolsClient, image: str = "img:1", pid: str = "worker", **extra: Any) -> Any:
    body = {"template": {"containers": [{"image": image}]}, "scaling": {"manual_instance_count": 2}, **extra}
    return client.create_worker_pool(parent=PARENT, worker_pool_id=pid, worker_pool=body).result()


def test_create_get_list_shape(pools: run_v2.WorkerPoolsClient) -> None:
    pool = _create(pools, labels={"app": "acme"})
    assert pool.name == f"{PARENT}/workerPools/worker"
    assert pool.terminal_condition.type_ == "Ready" and pool.terminal_condition.state == SUCCEEDED
    assert pool.latest_ready_revision == pool.latest_created_revision
    assert pool.latest_created_revision.split("/revisions/")[1].startswith("worker-00001-")
    assert pool.scaling.manual_instance_count == 2
    assert [(s.type_, s.percent) for s in pool.instance_split_statuses] == [(LATEST, 100)]
    assert pool.template.containers[0].resources.limits["memory"] == "512Mi"  # server-side default
    assert pool.etag and pool.uid
    assert pools.get_worker_pool(name=pool.name).etag == pool.etag
    assert [p.name for p in pools.list_worker_pools(parent=PARENT)] == [pool.name]


def test_revision_only_on_template_change_and_etag_guard(mocked_pools: tuple[Any, Any]) -> None:
    client, fake = mocked_pools
    pool = _create(client)
    pool.scaling.manual_instance_count = 3  # not the template: no new revision
    scaled = client.update_worker_pool(worker_pool=pool).result()
    assert scaled.latest_created_revision == pool.latest_created_revision
    assert scaled.scaling.manual_instance_count == 3 and scaled.etag != pool.etag
    with pytest.raises(exceptions.Conflict):  # the etag read before the scaling change
        client.update_worker_pool(worker_pool=pool).result()
    scaled.template.containers[0].image = "img:2"
    moved = client.update_worker_pool(worker_pool=scaled).result()
    assert moved.latest_created_revision != pool.latest_created_revision
    assert len(fake.run.worker_pools.revision_names(pool.name)) == 2


def test_a_failing_revision_keeps_instances_on_the_ready_one(mocked_pools: tuple[Any, Any]) -> None:
    client, fake = mocked_pools
    pool = _create(client)
    fake.run.fail_revisions("worker", "Container called exit(1).")
    pool.template.containers[0].image = "img:2"
    with pytest.raises(exceptions.GoogleAPICallError, match=r"exit\(1\)"):
        client.update_worker_pool(worker_pool=pool).result()
    live = client.get_worker_pool(name=pool.name)
    assert live.latest_ready_revision == pool.latest_ready_revision != live.latest_created_revision
    assert live.terminal_condition.state == FAILED


def test_instance_splits_are_checked(mocked_pools: tuple[Any, Any]) -> None:
    client, _ = mocked_pools
    pool = _create(client)
    ready = pool.latest_ready_revision.rsplit("/", 1)[1]
    pool.template.containers[0].image = "img:2"
    pool.instance_splits = [
        run_v2.InstanceSplit(type_=REVISION, revision=ready, percent=70),
        run_v2.InstanceSplit(type_=LATEST, percent=30),
    ]
    split = client.update_worker_pool(worker_pool=pool).result()
    assert sorted((s.type_, s.percent) for s in split.instance_split_statuses) == [(LATEST, 30), (REVISION, 70)]
    split.instance_splits = [run_v2.InstanceSplit(type_=LATEST, percent=50)]
    with pytest.raises(exceptions.BadRequest, match="must be 100"):
        client.update_worker_pool(worker_pool=split)


def test_connector_is_refused(mocked_pools: tuple[Any, Any]) -> None:
    client, _ = mocked_pools
    with pytest.raises(exceptions.BadRequest, match="not supported for worker pools"):
        _create(client, template={"containers": [{"image": "x"}], "vpc_access": {"connector": "c"}})


def test_unknown_field_is_rejected_by_the_discovery_document(mocked_pools: tuple[Any, Any]) -> None:
    import requests

    _, fake = mocked_pools
    with fake.mock():
        response = requests.post(
            f"https://run.googleapis.com/v2/{PARENT}/workerPools?workerPoolId=w",
            json={"template": {"containers": [{"image": "x"}]}, "traffic": []},
            timeout=5,
        )
    assert response.status_code == 400 and "traffic" in response.text
