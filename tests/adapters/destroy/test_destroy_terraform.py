"""The Terraform part of `shipit destroy` with the real terraform binary on a local-state module of built-in
resources. Cloud SQL can't be created here, so `is_data` names the stand-in for the database; the rest (the
targeted destroy around it, the check of the saved plan, --include-data last) is the real code path."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from fakegcp import FakeGCP
from shipit.adapters.terraform import StateResource
from shipit.config import load_config, resolve_target
from shipit.destroy import DestroyOptions, execute, plan
from shipit.infra.run import InfraRunner
from shipit.output import Console
from shipit.steps.context import RunOptions, StepContext

pytestmark = pytest.mark.terraform

CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
infra: {backend: local}
services:
  api: {image: us-central1-docker.pkg.dev/acme-staging/acme/api@sha256:%s}
""" % ("a" * 64)

# network <- database <- database_url; network <- connector (unrelated to the data); account (standalone).
ROOT = """\
terraform {
  backend "local" {}
}

resource "terraform_data" "network" {
  input = "acme-vpc"
}

resource "terraform_data" "database" {
  input = "db on ${terraform_data.network.output}"
}

resource "terraform_data" "database_url" {
  input = "url of ${terraform_data.database.output}"
}

resource "terraform_data" "connector" {
  input = "connector on ${terraform_data.network.output}"
}

resource "terraform_data" "account" {
  input = "acme-staging-api"
}
"""


def is_data(resource: StateResource) -> bool:
    return resource.address in ("terraform_data.database", "terraform_data.database_url")


def _state(root: Path) -> set[str]:
    path = root / "terraform.tfstate"
    if not path.exists():
        return set()
    return {f"{r['type']}.{r['name']}" for r in json.loads(path.read_text())["resources"]}


@pytest.fixture
def env(tmp_path: Path, terraform_bin: str, fake_gcp_mock: FakeGCP, gcp_token: str) -> tuple[StepContext, Path]:
    (tmp_path / "shipit.yaml").write_text(CONFIG)
    root = tmp_path / "infra" / "environments" / "staging"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(ROOT)
    target = resolve_target(load_config(tmp_path / "shipit.yaml", "shipit.yaml"), "staging")
    ctx = StepContext(target=target, console=Console(stdout=io.StringIO(), stderr=io.StringIO()), options=RunOptions())
    runner = InfraRunner(target, ctx.console)
    runner.apply(runner.plan())
    assert _state(root) == {
        f"terraform_data.{n}" for n in ("network", "database", "database_url", "connector", "account")
    }
    return ctx, root


def test_without_include_data_the_database_and_what_it_needs_stay(env: tuple[StepContext, Path]) -> None:
    ctx, root = env
    runner = InfraRunner(ctx.target, ctx.console)
    planned = plan(ctx, DestroyOptions(), runner, is_data=is_data)
    assert planned.infra is not None and planned.data is None
    assert sorted(planned.infra.resources) == ["terraform_data.account", "terraform_data.connector"]
    assert any("terraform_data.network" in k for k in planned.kept)
    result = execute(ctx, planned, runner)
    assert sorted(result.terraform) == ["terraform_data.account", "terraform_data.connector"]
    assert _state(root) == {"terraform_data.network", "terraform_data.database", "terraform_data.database_url"}

    # Run again: nothing but the data is left, so nothing is planned.
    again = plan(ctx, DestroyOptions(), runner, is_data=is_data)
    assert again.empty


def test_include_data_destroys_the_database_last(env: tuple[StepContext, Path]) -> None:
    ctx, root = env
    runner = InfraRunner(ctx.target, ctx.console)
    planned = plan(ctx, DestroyOptions(include_data=True), runner, is_data=is_data)
    assert planned.infra is not None and planned.data is not None
    assert "terraform_data.database" in planned.data.resources
    assert "terraform_data.database" not in planned.infra.resources
    execute(ctx, planned, runner)
    assert _state(root) == set()
    assert plan(ctx, DestroyOptions(include_data=True), runner, is_data=is_data).empty


def test_a_targeted_plan_that_would_touch_the_data_is_not_applied(env: tuple[StepContext, Path]) -> None:
    from shipit.destroy.execute import DestroyRefused

    ctx, root = env
    runner = InfraRunner(ctx.target, ctx.console)
    planned = plan(ctx, DestroyOptions(), runner, is_data=is_data)
    assert planned.infra is not None
    # As if the split had missed a dependency: the network goes, and with it the database that needs it.
    wrong = replace(planned, infra=replace(planned.infra, targets=("terraform_data.network",)))
    with pytest.raises(DestroyRefused, match=r"terraform_data\.database"):
        execute(ctx, wrong, runner)
    assert "terraform_data.database" in _state(root)
    assert not runner.paths.plan_file.exists()


def test_the_cli_dry_run_leaves_the_project_as_it_was_then_destroys(
    env: tuple[StepContext, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli_runner import invoke

    ctx, root = env
    monkeypatch.chdir(ctx.target.root)
    before = sorted(str(p.relative_to(ctx.target.root)) for p in ctx.target.root.rglob("*"))
    state = (root / "terraform.tfstate").read_bytes()
    dry = invoke("destroy", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "- delete  terraform_data.account" in dry.stdout
    assert sorted(str(p.relative_to(ctx.target.root)) for p in ctx.target.root.rglob("*")) == before
    assert (root / "terraform.tfstate").read_bytes() == state
    # No Cloud SQL in this module: everything goes in the one targeted destroy.
    done = invoke("destroy", "--yes")
    assert done.exit_code == 0, done.output
    assert _state(root) == set()
