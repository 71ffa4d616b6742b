"""Earlier step results: this run, else the state file (only with a matching stamp), else the live remote."""

from __future__ import annotations

import io
import json
import types
from pathlib import Path

import pytest

from shipit.config import load_config, resolve_target
from shipit.infra.run import save_outputs
from shipit.output import Console
from shipit.pipeline import StepSpec, apply_all, plan_all, plan_step, record
from shipit.plan import Action, Change, Plan
from shipit.results import BuildResult, InfraResult, PushResult, SecretsResult, ServicesResult
from shipit.state import read_state, state_path, write_result
from shipit.steps.context import RunOptions, StepContext
from shipit.steps.resolver import earlier

CONFIG = """\
version: 1
app: acme
environments:
  staging: {{project: {project}, region: us-central1}}
  prod: {{project: acme-prod, region: us-central1}}
services:
  api: {{image: "us-docker.pkg.dev/acme/api:{tag}"}}
"""
IMG_A = "us-central1-docker.pkg.dev/acme-staging/acme/api@sha256:" + "a" * 64
IMG_B = "us-central1-docker.pkg.dev/acme-staging/acme/api@sha256:" + "b" * 64


def make_ctx(
    root: Path, env: str = "staging", *, project: str = "acme-staging", tag: str = "1", **opts: bool
) -> StepContext:
    (root / "shipit.yaml").write_text(CONFIG.format(project=project, tag=tag))
    target = resolve_target(load_config(root / "shipit.yaml", "shipit.yaml"), env)
    return StepContext(target, Console(stdout=io.StringIO(), stderr=io.StringIO()), RunOptions(**opts))


def test_this_run_wins_over_the_state_file(tmp_path: Path) -> None:
    write_result(make_ctx(tmp_path).target, PushResult({"api": IMG_A}))
    ctx = make_ctx(tmp_path)
    ctx.results["push"] = PushResult({"api": IMG_B})
    assert earlier(ctx, PushResult) == {"api": IMG_B}
    assert ctx.sources == {"push": "this run"}


def test_the_state_file_is_read_by_another_process(tmp_path: Path) -> None:
    write_result(make_ctx(tmp_path).target, PushResult({"api": IMG_A}), now=0)
    ctx = make_ctx(tmp_path)  # a new context: nothing ran in this process
    assert earlier(ctx, PushResult) == {"api": IMG_A}
    assert ctx.sources["push"] == "state file .shipit/state/staging.json (written 1970-01-01T00:00:00Z)"


def test_the_state_file_wins_over_the_live_remote_and_a_newer_outputs_cache_wins_over_it(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    write_result(ctx.target, InfraResult({"vpc_connector": "from-state"}), now=0)
    assert earlier(ctx, InfraResult) == {"vpc_connector": "from-state"}
    # `shipit infra apply` refreshed the outputs cache after the state was written: the cache is newer.
    save_outputs(ctx.target, {"vpc_connector": "from-cache"})
    ctx = make_ctx(tmp_path)
    assert earlier(ctx, InfraResult) == {"vpc_connector": "from-cache"}
    assert "superseded by a newer Terraform outputs cache" in ctx.sources["infra"]


def test_without_state_the_live_remote_is_used(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    save_outputs(ctx.target, {"service_accounts": {"api": "sa@x"}})
    assert earlier(ctx, InfraResult) == {"service_accounts": {"api": "sa@x"}}
    assert ctx.sources["infra"] == "Terraform outputs cache .shipit/infra/staging/outputs.json"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"project": "other-project"}, "it was written for project 'acme-staging', not 'other-project'"),
        ({"tag": "2"}, "shipit.yaml changed since it was written"),
    ],
)
def test_a_state_file_of_another_project_or_config_revision_is_never_used(
    tmp_path: Path, change: dict[str, str], why: str
) -> None:
    write_result(make_ctx(tmp_path).target, SecretsResult({"K": "projects/p/secrets/s/versions/3"}))
    ctx = make_ctx(tmp_path, **change)  # type: ignore[arg-type]
    assert earlier(ctx, SecretsResult) is None
    assert ctx.sources["secrets"] == f"state file .shipit/state/staging.json ignored: {why}; none"


def test_each_environment_has_its_own_state_file(tmp_path: Path) -> None:
    write_result(make_ctx(tmp_path).target, PushResult({"api": IMG_A}))
    prod = make_ctx(tmp_path, "prod")
    assert earlier(prod, PushResult) is None
    assert not state_path(prod.target).exists()


def test_the_live_push_remote_is_not_asked_without_built_services(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    assert earlier(ctx, PushResult) is None
    assert ctx.sources["push"] == "none (no service is built by shipit)"


def test_build_results_are_never_persisted(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    assert write_result(ctx.target, BuildResult({})) is None
    record(ctx, "build", BuildResult({}))
    assert not state_path(ctx.target).exists()
    assert earlier(make_ctx(tmp_path), BuildResult) is None


def test_state_file_is_versioned_stamped_and_merged_per_step(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    write_result(ctx.target, PushResult({"api": IMG_A}))
    write_result(ctx.target, ServicesResult({"api": {"revision": "api-1", "ok": True}}))
    write_result(ctx.target, PushResult({"api": IMG_B}))
    document = json.loads(state_path(ctx.target).read_text())
    assert document["version"] == 1
    assert {k: v for k, v in document["stamp"].items() if k != "config"} == {
        "app": "acme",
        "environment": "staging",
        "project": "acme-staging",
        "region": "us-central1",
    }
    assert document["stamp"]["config"].startswith("sha256:")
    assert sorted(document["steps"]) == ["push", "services"]
    assert document["steps"]["push"]["result"] == {"images": {"api": IMG_B}}
    left = sorted(p.name for p in state_path(ctx.target).parent.iterdir())
    assert left == [".staging.json.lock", "staging.json"]  # no temporary file left


def test_a_corrupt_state_file_is_ignored_with_a_reason(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    path = state_path(ctx.target)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert read_state(ctx.target).ignored == "it is not readable JSON"
    assert earlier(ctx, PushResult) is None


def test_plan_notes_say_where_each_input_came_from(tmp_path: Path) -> None:
    write_result(make_ctx(tmp_path).target, PushResult({"api": IMG_A}), now=0)
    ctx = make_ctx(tmp_path)

    def plan() -> Plan:
        earlier(ctx, PushResult)
        earlier(ctx, SecretsResult)
        return Plan.of("services", (), ["own note"])

    notes = plan_step(ctx, plan).notes
    assert notes == (
        "own note",
        "input push: state file .shipit/state/staging.json (written 1970-01-01T00:00:00Z)",
        "input secrets: none",
    )


def _module(name: str, result: object) -> types.ModuleType:
    module = types.ModuleType(f"fake_{name}")

    def plan(ctx: StepContext) -> Plan:
        return Plan.of(name, [Change(name, Action.UPDATE, name)])

    module.plan = plan  # type: ignore[attr-defined]
    module.apply = lambda ctx, plan: result  # type: ignore[attr-defined]
    return module


def test_the_pipeline_writes_results_after_apply_and_never_on_a_dry_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "fake_push", _module("push", PushResult({"api": IMG_A})))
    specs = [StepSpec("push", "fake_push", "push")]
    dry = make_ctx(tmp_path, dry_run=True)
    plan_all(dry, specs, events=False)
    assert not state_path(dry.target).exists()

    ctx = make_ctx(tmp_path)
    apply_all(ctx, specs, plan_all(ctx, specs, events=False))
    assert earlier(make_ctx(tmp_path), PushResult) == {"api": IMG_A}
