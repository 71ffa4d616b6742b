"""`shipit rollback` / `shipit promote` for workers (steps/workers/rollout.py) through the REAL run_v2
clients (REST) against fakegcp: only the instance split changes, guarded by the etag; no new revision."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.workers.test_worker_pools import IMAGE_A, IMAGE_B, Project
from fakegcp import FakeGCP
from fakegcp.fixtures import fake_gcp, fake_gcp_mock
from shipit.errors import ShipitError, UsageError
from shipit.plan import Action
from shipit.steps import workers

__all__ = ["fake_gcp", "fake_gcp_mock"]
IMAGE_C = IMAGE_A.replace("a" * 64, "c" * 64)
LATEST = {"type": "INSTANCE_SPLIT_ALLOCATION_TYPE_LATEST", "percent": 100}


def _pinned(revision: str) -> list[dict[str, object]]:
    return [{"type": "INSTANCE_SPLIT_ALLOCATION_TYPE_REVISION", "revision": revision, "percent": 100}]


@pytest.fixture
def project(tmp_path: Path, fake_gcp_mock: FakeGCP, gcp_token: str) -> Project:
    return Project(tmp_path, fake_gcp_mock)


def test_promote_finishes_a_canary_without_a_new_revision(project: Project) -> None:
    project.deploy(IMAGE_A)
    project.deploy(IMAGE_B, canary=10)
    first, second = project.fake.run.worker_pools.revision_names(project.pool()["name"])
    assert {s.get("revision") for s in project.pool()["instanceSplits"]} == {first, None}
    ctx = project.ctx()
    plan = workers.plan_promote(ctx)
    (change,) = plan.changes
    assert change.action is Action.UPDATE and change.summary == f"all instances to {second}"
    before = len(project.writes())
    workers.apply_splits(ctx, plan)
    assert project.pool()["instanceSplits"] == [LATEST]
    assert len(project.writes()) == before + 1
    assert project.fake.run.worker_pools.revision_names(project.pool()["name"]) == [first, second]
    assert workers.plan_promote(project.ctx()).changes[0].action is Action.NOOP


def test_rollback_moves_every_instance_to_the_previous_ready_revision(project: Project) -> None:
    project.deploy(IMAGE_A)
    project.deploy(IMAGE_B)
    project.deploy(IMAGE_C)
    first, second, third = project.fake.run.worker_pools.revision_names(project.pool()["name"])
    ctx = project.ctx()
    plan = workers.plan_rollback(ctx, ["worker"])
    assert plan.changes[0].summary.startswith(f"to {second}")
    workers.apply_splits(ctx, plan)
    assert project.pool()["instanceSplits"] == _pinned(second)
    # again: the revision before the one running now
    ctx = project.ctx()
    workers.apply_splits(ctx, workers.plan_rollback(ctx, ["worker"]))
    assert project.pool()["instanceSplits"] == _pinned(first)
    with pytest.raises(ShipitError, match="oldest ready revision"):
        workers.plan_rollback(project.ctx(), ["worker"])
    # --to: any ready revision, e.g. back to the newest
    ctx = project.ctx()
    workers.apply_splits(ctx, workers.plan_rollback(ctx, ["worker"], third))
    assert project.pool()["instanceSplits"] == _pinned(third)
    assert project.fake.run.worker_pools.revision_names(project.pool()["name"]) == [first, second, third]


def test_rollback_to_an_unknown_revision_names_the_known_ones(project: Project) -> None:
    project.deploy(IMAGE_A)
    (first,) = project.fake.run.worker_pools.revision_names(project.pool()["name"])
    with pytest.raises(UsageError) as caught:
        workers.plan_rollback(project.ctx(), ["worker"], "worker-00009-zzz")
    assert first in caught.value.render()


def test_a_concurrent_change_makes_the_split_write_fail(project: Project) -> None:
    project.deploy(IMAGE_A)
    project.deploy(IMAGE_B)
    ctx = project.ctx()
    plan = workers.plan_rollback(ctx, ["worker"])
    project.deploy(IMAGE_C)  # someone deploys between plan and apply: the etag read while planning is stale
    with pytest.raises(ShipitError):
        workers.apply_splits(ctx, plan)
    assert project.pool()["instanceSplits"] == [LATEST]
