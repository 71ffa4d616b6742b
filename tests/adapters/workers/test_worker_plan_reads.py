"""How the workers plan reads the live worker pools, through the REAL run_v2 client against fakegcp: from
LIST_FROM workers on one workerPools.list instead of a GET each (like the services plan), keeping only the
worker pools shipit.yaml names."""

from __future__ import annotations

import io
from pathlib import Path

from fakegcp import FakeGCP
from fakegcp.fixtures import fake_gcp, fake_gcp_mock
from shipit.config import load_config, resolve_target
from shipit.output import Console
from shipit.plan import Action
from shipit.steps import workers
from shipit.steps.context import RunOptions, StepContext
from shipit.steps.services import LIST_FROM
from step_results import typed_results

__all__ = ["fake_gcp", "fake_gcp_mock"]

PARENT = "projects/acme-staging/locations/us-central1"
HEAD = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
services:
"""
INFRA = {"service_accounts": {}}
GET = "run.projects.locations.workerPools.get"
LIST = "run.projects.locations.workerPools.list"


def image(name: str) -> str:
    return f"us-central1-docker.pkg.dev/acme-staging/acme/{name}@sha256:" + "a" * 64


def _ctx(root: Path, count: int) -> StepContext:
    names = [f"w{i:02d}" for i in range(count)]
    body = "".join(f"  {n}:\n    kind: worker\n" for n in names)
    (root / "shipit.yaml").write_text(HEAD + body)
    target = resolve_target(load_config(root / "shipit.yaml", "shipit.yaml"), "staging")
    return StepContext(
        target=target,
        console=Console(stdout=io.StringIO(), stderr=io.StringIO()),
        options=RunOptions(images=tuple((n, image(n)) for n in names), yes=True),
        results=typed_results({"infra": dict(INFRA), "secrets": {}}),
    )


def _deploy_stranger(fake: FakeGCP, tmp_path: Path) -> None:
    """A worker pool of the region that shipit.yaml does not name (another app's)."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "shipit.yaml").write_text(HEAD + "  stranger:\n    kind: worker\n")
    target = resolve_target(load_config(other / "shipit.yaml", "shipit.yaml"), "staging")
    ctx = StepContext(
        target=target,
        console=Console(stdout=io.StringIO(), stderr=io.StringIO()),
        options=RunOptions(images=(("stranger", image("stranger")),), yes=True),
        results=typed_results({"infra": dict(INFRA), "secrets": {}}),
    )
    workers.apply(ctx, workers.plan(ctx))


def test_ten_workers_are_read_with_one_list_call(fake_gcp_mock: FakeGCP, gcp_token: str, tmp_path: Path) -> None:
    fake_gcp = fake_gcp_mock
    assert LIST_FROM <= 10
    _deploy_stranger(fake_gcp, tmp_path)
    ctx = _ctx(tmp_path, 10)
    workers.apply(ctx, workers.plan(ctx))
    assert len([n for n in fake_gcp.run.worker_pools.pools if n.startswith(PARENT)]) == 11

    fake_gcp.reset_calls()
    again = workers.plan(_ctx(tmp_path, 10))
    assert len(fake_gcp.calls_to(LIST)) == 1
    assert fake_gcp.calls_to(GET) == []
    # Only the workers asked for, each found live: nothing to change, the other app's pool not in the plan.
    assert [c.resource for c in again.changes] == [f"worker w{i:02d}" for i in range(10)]
    assert all(c.action is Action.NOOP for c in again.changes)


def test_a_few_workers_are_read_one_get_each(fake_gcp_mock: FakeGCP, gcp_token: str, tmp_path: Path) -> None:
    fake_gcp = fake_gcp_mock
    ctx = _ctx(tmp_path, 3)
    fake_gcp.reset_calls()
    plan = workers.plan(ctx)
    assert len(fake_gcp.calls_to(GET)) == 3
    assert fake_gcp.calls_to(LIST) == []
    assert [c.action for c in plan.changes] == [Action.CREATE] * 3


def test_status_of_ten_workers_lists_once(fake_gcp_mock: FakeGCP, gcp_token: str, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, 10)
    workers.apply(ctx, workers.plan(ctx))
    fake_gcp_mock.reset_calls()
    rows = workers.status(_ctx(tmp_path, 10))
    assert (len(fake_gcp_mock.calls_to(LIST)), fake_gcp_mock.calls_to(GET)) == (1, [])
    assert [r["name"] for r in rows] == [f"w{i:02d}" for i in range(10)] and all(r["deployed"] for r in rows)
