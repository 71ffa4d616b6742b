"""The workers step (kind: worker -> Cloud Run worker pools) through the REAL run_v2 WorkerPoolsClient
(REST) against fakegcp, in-process via responses: create, no-op, field diff, etag, failed revision, canary."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import pytest

from fakegcp import FakeGCP
from fakegcp.fixtures import fake_gcp, fake_gcp_mock
from shipit.config import load_config, resolve_target
from shipit.output import Console
from shipit.plan import Action, Plan
from shipit.steps import workers
from shipit.steps.context import RunOptions, StepContext
from step_results import typed_results

__all__ = ["fake_gcp", "fake_gcp_mock"]

PARENT = "projects/acme-staging/locations/us-central1"
POOL = f"{PARENT}/workerPools/worker"
IMAGE_A = "us-central1-docker.pkg.dev/acme-staging/acme/worker@sha256:" + "a" * 64
IMAGE_B = "us-central1-docker.pkg.dev/acme-staging/acme/worker@sha256:" + "b" * 64
CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
databases:
  main: {}
services:
  worker:
    kind: worker
    env: {MODE: batch}
    secrets: [STRIPE_KEY]
    databases: [main]
    cloud_run: {instances: INSTANCES, memory: 1Gi}
"""
INFRA = {
    "service_accounts": {"worker": "worker-sa@acme-staging.iam.gserviceaccount.com"},
    "network": {"network": "acme-vpc", "subnet": "acme-sub"},
    "vpc_connector": f"{PARENT}/connectors/acme",
    "databases": {"main": {"connection_name": "acme-staging:us-central1:main", "url_secret": "acme-db-url"}},
}
SECRETS = {"STRIPE_KEY": "projects/acme-staging/secrets/acme-staging-STRIPE_KEY/versions/3"}


class Project:
    def __init__(self, root: Path, fake: FakeGCP) -> None:
        self.root, self.fake = root, fake
        self.write()

    def write(self, instances: int = 2, extra: str = "") -> None:
        text = CONFIG.replace("INSTANCES", str(instances)) + textwrap.dedent(extra)
        (self.root / "shipit.yaml").write_text(text)

    def ctx(self, image: str = IMAGE_A, canary: int | None = None) -> StepContext:
        target = resolve_target(load_config(self.root / "shipit.yaml", "shipit.yaml"), "staging")
        return StepContext(
            target=target,
            console=Console(stdout=io.StringIO(), stderr=io.StringIO()),
            options=RunOptions(images=(("worker", image),), yes=True, canary=canary),
            results=typed_results({"infra": dict(INFRA), "secrets": dict(SECRETS)}),
        )

    def deploy(self, image: str = IMAGE_A, canary: int | None = None) -> tuple[Plan, dict[str, Any]]:
        ctx = self.ctx(image, canary)
        plan = workers.plan(ctx)
        return plan, workers.apply(ctx, plan)

    def pool(self) -> dict[str, Any]:
        return self.fake.run.worker_pools.pools[POOL]  # type: ignore[no-any-return]

    def writes(self) -> list[str]:
        return [c.method_id or "" for c in self.fake.mutating_calls()]


@pytest.fixture
def project(tmp_path: Path, fake_gcp_mock: FakeGCP, gcp_token: str) -> Project:
    return Project(tmp_path, fake_gcp_mock)


def test_creates_the_worker_pool_from_the_same_inputs_as_a_service(project: Project) -> None:
    plan, result = project.deploy()
    assert [c.action for c in plan.changes] == [Action.CREATE]
    assert result["worker"]["ok"] and result["worker"]["action"] == "create"
    pool = project.pool()
    template = pool["template"]
    container = template["containers"][0]
    assert container["image"] == IMAGE_A
    assert container["resources"] == {"limits": {"cpu": "1", "memory": "1Gi"}}
    assert "ports" not in container and "startupProbe" not in container
    env = {e["name"]: e for e in container["env"]}
    assert env["MODE"]["value"] == "batch"
    assert env["STRIPE_KEY"]["valueSource"]["secretKeyRef"] == {"secret": "acme-staging-STRIPE_KEY", "version": "3"}
    assert template["serviceAccount"] == INFRA["service_accounts"]["worker"]
    # Direct VPC egress (worker pools support no connector), with the database's Cloud SQL volume
    assert template["vpcAccess"] == {
        "egress": "PRIVATE_RANGES_ONLY",
        "networkInterfaces": [{"network": "acme-vpc", "subnetwork": "acme-sub"}],
    }
    assert {"name": "cloudsql", "cloudSqlInstance": {"instances": ["acme-staging:us-central1:main"]}} in template[
        "volumes"
    ]
    assert pool["scaling"] == {"manualInstanceCount": 2}
    assert pool["labels"]["managed-by"] == "shipit"
    assert project.writes() == ["run.projects.locations.workerPools.create"]


def test_unchanged_worker_makes_no_write(project: Project) -> None:
    project.deploy()
    before = len(project.writes())
    plan, result = project.deploy()
    assert [c.action for c in plan.changes] == [Action.NOOP]
    assert result["worker"]["action"] == "no-op"
    assert len(project.writes()) == before


def test_a_field_change_is_one_etag_guarded_update_with_a_field_diff(project: Project) -> None:
    project.deploy()
    project.write(instances=3)
    ctx = project.ctx(IMAGE_B)
    plan = workers.plan(ctx)
    (change,) = plan.changes
    fields = {d.field: (d.before, d.after) for d in change.diffs}
    assert fields["instances"] == ("2", "3")
    assert fields["image"] == (IMAGE_A, IMAGE_B)
    etag = project.pool()["etag"]
    workers.apply(ctx, plan)
    (patch,) = project.fake.calls_to("run.projects.locations.workerPools.patch")
    assert patch.body["etag"] == etag
    assert project.pool()["scaling"] == {"manualInstanceCount": 3}
    assert len(project.fake.run.worker_pools.revision_names(POOL)) == 2


def test_a_concurrent_change_fails_the_update_instead_of_overwriting_it(project: Project) -> None:
    project.deploy()
    ctx = project.ctx(IMAGE_B)
    plan = workers.plan(ctx)
    project.fake.run.worker_pools.pools[POOL]["etag"] = "changed-by-someone-else"
    with pytest.raises(workers.WorkerFailed, match="etag"):
        workers.apply(ctx, plan)
    assert project.pool()["template"]["containers"][0]["image"] == IMAGE_A


def test_a_revision_that_fails_leaves_the_instances_on_the_previous_one(project: Project) -> None:
    project.deploy()
    ready = project.pool()["latestReadyRevision"]
    project.fake.run.fail_revisions("worker", "Container called exit(1).")
    with pytest.raises(workers.WorkerFailed, match=r"exit\(1\).*instances stay on") as caught:
        project.deploy(IMAGE_B)
    assert caught.value.exit_code == 1
    assert project.pool()["latestReadyRevision"] == ready
    # the failed revision is retried by the next deploy, even with nothing else changed
    project.fake.run.allow_revisions("worker")
    plan, _ = project.deploy(IMAGE_B)
    assert plan.changes[0].action is Action.UPDATE
    assert project.pool()["latestReadyRevision"] != ready


def test_canary_moves_only_a_share_of_the_instances(project: Project) -> None:
    project.deploy()
    ready = project.pool()["latestReadyRevision"].rsplit("/", 1)[1]
    project.deploy(IMAGE_B, canary=25)
    splits = project.pool()["instanceSplits"]
    assert sorted(splits, key=lambda s: s["percent"]) == [
        {"type": "INSTANCE_SPLIT_ALLOCATION_TYPE_LATEST", "percent": 25},
        {"type": "INSTANCE_SPLIT_ALLOCATION_TYPE_REVISION", "revision": ready, "percent": 75},
    ]
    # a plain deploy afterwards moves the rest, without a new revision
    revisions = len(project.fake.run.worker_pools.revision_names(POOL))
    plan, _ = project.deploy(IMAGE_B)
    assert plan.changes[0].summary == "no new revision"
    assert project.pool()["instanceSplits"] == [{"type": "INSTANCE_SPLIT_ALLOCATION_TYPE_LATEST", "percent": 100}]
    assert len(project.fake.run.worker_pools.revision_names(POOL)) == revisions


def test_status_lists_workers(project: Project) -> None:
    assert workers.status(project.ctx()) == [{"name": "worker", "kind": "worker", "deployed": False}]
    project.deploy()
    (row,) = workers.status(project.ctx())
    assert row["instances"] == 2 and row["ready"] is True and row["splits"] == "100% latest"


def test_a_lost_response_is_read_back(project: Project) -> None:
    project.fake.faults.drop_response("run.projects.locations.workerPools.create")
    _, result = project.deploy()
    assert result["worker"]["ok"]
    assert len(project.fake.calls_to("run.projects.locations.workerPools.create")) == 1
