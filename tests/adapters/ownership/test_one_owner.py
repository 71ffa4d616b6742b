"""One owner per resource, through the real Artifact Registry and Secret Manager clients (REST) against fakegcp.

With infrastructure enabled, Terraform owns the image repository and the secret containers: push and
secrets never create them and stop with "run `shipit infra apply` first" (unless the infra step of the
same run is about to apply). Without it, shipit creates them and the plan says so.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from fakegcp import FakeGCP
from fakegcp.fixtures import fake_gcp, fake_gcp_mock
from shipit.config import load_config, resolve_target
from shipit.errors import EXIT_FAILURE
from shipit.names import repository_name
from shipit.output import Console
from shipit.plan import Action
from shipit.results import InfraResult
from shipit.steps import push, secrets
from shipit.steps.context import StepContext
from shipit.steps.ownership import MissingInfraError, terraform_owns

__all__ = ["fake_gcp", "fake_gcp_mock"]

REPO = repository_name("acme-staging", "us-central1", "apps")
CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
registry: {repository: apps}
%(infra)s
services:
  api:
    image: "us-docker.pkg.dev/acme/base/api@sha256:%(digest)s"
    secrets: [STRIPE_KEY]
"""
SECRET = "projects/acme-staging/secrets/acme-staging-STRIPE_KEY"


def _ctx(
    root: Path, infra: str, *, generated: bool = False, hand_written: bool = False, offline: bool = False
) -> StepContext:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shipit.yaml").write_text(CONFIG % {"infra": infra, "digest": "a" * 64})
    (root / ".env").write_text("STRIPE_KEY=sk_live_canary_0042\n")
    if generated or hand_written:
        (root / "infra" / "environments" / "staging").mkdir(parents=True)
        (root / "infra" / "environments" / "staging" / "main.tf").write_text('module "app" {\n  source = "../.."\n}\n')
    if generated:  # the module `shipit infra generate` writes declares both
        (root / "infra" / "registry.tf").write_text('resource "google_artifact_registry_repository" "images" {}\n')
        (root / "infra" / "secrets.tf").write_text('resource "google_secret_manager_secret" "secret" {}\n')
    target = resolve_target(load_config(root / "shipit.yaml", "shipit.yaml"), "staging")
    console = Console(stdout=io.StringIO(), stderr=io.StringIO())
    ctx = StepContext(target=target, console=console)
    if offline:
        from dataclasses import replace

        ctx = replace(ctx, options=replace(ctx.options, offline=True))
    return ctx


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, gcp_token: str) -> None:
    monkeypatch.delenv("SHIPIT_REGISTRY_HOST", raising=False)


@pytest.mark.parametrize(
    ("infra", "files", "owned"),
    [
        ("", {}, False),  # no Terraform root: shipit's
        ("", {"generated": True}, True),  # the generated module declares both
        ("", {"hand_written": True}, False),  # a Terraform root that declares neither
        ("infra: {enabled: true}", {}, True),
        ("infra: {enabled: false}", {"generated": True}, False),
    ],
)
def test_ownership_follows_the_setting_then_what_terraform_declares(
    tmp_path: Path, infra: str, files: dict[str, bool], owned: bool
) -> None:
    target = _ctx(tmp_path, infra, **files).target
    assert terraform_owns(target, "repository") is owned
    assert terraform_owns(target, "secrets") is owned


@pytest.mark.parametrize("infra", ["infra: {enabled: true}", ""])
def test_with_infra_push_and_secrets_never_create_and_ask_for_infra_apply(
    tmp_path: Path, fake_gcp_mock: FakeGCP, infra: str
) -> None:
    ctx = _ctx(tmp_path, infra, generated=not infra)
    with pytest.raises(MissingInfraError) as pushed:
        push.plan(ctx)
    with pytest.raises(MissingInfraError) as synced:
        secrets.plan(ctx)
    for caught, what in ((pushed, REPO), (synced, "acme-staging-STRIPE_KEY")):
        message = caught.value.render()
        assert caught.value.exit_code == EXIT_FAILURE
        assert what in message and "run `shipit infra apply -e staging` first" in message and "\n" not in message
    assert fake_gcp_mock.mutating_calls() == []


def test_with_infra_existing_resources_are_used_not_recreated(tmp_path: Path, fake_gcp_mock: FakeGCP) -> None:
    fake_gcp_mock.artifacts.add_repository(REPO)
    fake_gcp_mock.secrets.seed(
        "acme-staging", "acme-staging-STRIPE_KEY", labels={"managed-by": "shipit", "app": "acme", "env": "staging"}
    )
    ctx = _ctx(tmp_path, "infra: {enabled: true}")
    push.apply(ctx, push.plan(ctx))
    secrets.apply(ctx, secrets.plan(ctx))
    methods = [c.method_id for c in fake_gcp_mock.mutating_calls()]
    assert methods == ["secretmanager.projects.secrets.addVersion"]
    assert fake_gcp_mock.secrets.value(SECRET) == b"sk_live_canary_0042"


def test_with_infra_pending_in_the_same_run_the_plan_defers_to_terraform(
    tmp_path: Path, fake_gcp_mock: FakeGCP
) -> None:
    ctx = _ctx(tmp_path, "infra: {enabled: true}")
    ctx.results["infra"] = InfraResult(pending=True)
    push_plan, secrets_plan = push.plan(ctx), secrets.plan(ctx)
    assert not [c for c in push_plan if "repository" in c.resource]
    assert any("created by Terraform" in n for n in push_plan.notes)
    [change] = secrets_plan.changes
    assert change.action == Action.UPDATE and "new version" in change.summary
    assert any("created by Terraform" in n for n in secrets_plan.notes)
    assert fake_gcp_mock.mutating_calls() == []


def test_with_infra_offline_plan_shows_no_creation(tmp_path: Path, fake_gcp_mock: FakeGCP) -> None:
    ctx = _ctx(tmp_path, "infra: {enabled: true}", offline=True)
    assert not [c for c in push.plan(ctx) if c.action == Action.CREATE and "repository" in c.resource]
    assert [c.action for c in secrets.plan(ctx)] == [Action.UPDATE]
    assert fake_gcp_mock.mutating_calls() == []


def test_without_infra_shipit_creates_both_and_says_so(tmp_path: Path, fake_gcp_mock: FakeGCP) -> None:
    ctx = _ctx(tmp_path, "infra: {enabled: false}", generated=True)
    push_plan, secrets_plan = push.plan(ctx), secrets.plan(ctx)
    [repo] = [c for c in push_plan if "repository" in c.resource]
    assert repo.action == Action.CREATE and "created by shipit" in repo.summary
    assert [c.action for c in secrets_plan] == [Action.CREATE]
    assert any("created by shipit" in n for n in secrets_plan.notes)
    push.apply(ctx, push_plan)
    secrets.apply(ctx, secrets_plan)
    methods = sorted(str(c.method_id) for c in fake_gcp_mock.mutating_calls())
    assert methods == [
        "artifactregistry.projects.locations.repositories.create",
        "secretmanager.projects.secrets.addVersion",
        "secretmanager.projects.secrets.create",
    ]


def test_with_infra_build_secrets_are_still_created_by_shipit(tmp_path: Path, fake_gcp_mock: FakeGCP) -> None:
    _ctx(tmp_path, "infra: {enabled: true}")
    config = (tmp_path / "shipit.yaml").read_text() + "  web:\n    build: {context: ., secrets: [NPM_TOKEN]}\n"
    (tmp_path / "shipit.yaml").write_text(config)
    (tmp_path / ".env").write_text("NPM_TOKEN=npm_canary_77\nSTRIPE_KEY=sk_canary_1\n")
    labels = {"managed-by": "shipit", "app": "acme", "env": "staging"}
    fake_gcp_mock.secrets.seed("acme-staging", "acme-staging-STRIPE_KEY", labels=labels)  # Terraform made it
    plan = secrets.plan(_ctx_from(tmp_path))
    assert sorted((c.resource, c.action) for c in plan) == [
        ("NPM_TOKEN", Action.CREATE),
        ("STRIPE_KEY", Action.UPDATE),
    ]
    assert any("NPM_TOKEN are created by shipit (build secrets" in n for n in plan.notes)


def _ctx_from(root: Path) -> StepContext:
    target = resolve_target(load_config(root / "shipit.yaml", "shipit.yaml"), "staging")
    return StepContext(target=target, console=Console(stdout=io.StringIO(), stderr=io.StringIO()))


def test_the_module_shipit_generates_makes_terraform_the_owner(tmp_path: Path) -> None:
    from shipit.render.terraform import render_infra

    target = _ctx(tmp_path, "").target
    assert not terraform_owns(target, "repository")
    for relative, text in render_infra([target]).items():
        path = target.infra_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert terraform_owns(target, "repository") and terraform_owns(target, "secrets")


def _stale(fake: FakeGCP) -> None:
    labels = {"managed-by": "shipit", "app": "acme", "env": "staging"}
    fake.secrets.seed("acme-staging", "acme-staging-STRIPE_KEY", "sk_live_canary_0042", labels=labels)
    fake.secrets.seed("acme-staging", "acme-staging-OLD_KEY", "old", labels=labels)  # no longer declared


def test_with_infra_prune_leaves_undeclared_containers_to_terraform(tmp_path: Path, fake_gcp_mock: FakeGCP) -> None:
    ctx = _ctx(tmp_path, "infra: {enabled: true}")
    _stale(fake_gcp_mock)
    plan = secrets.plan(ctx, prune=True)
    assert [c.action for c in plan if c.action is Action.DELETE] == []
    assert any("acme-staging-OLD_KEY" in n and "--prune deletes none" in n for n in plan.notes)


def test_without_infra_prune_deletes_what_shipit_created(tmp_path: Path, fake_gcp_mock: FakeGCP) -> None:
    ctx = _ctx(tmp_path, "infra: {enabled: false}")
    _stale(fake_gcp_mock)
    plan = secrets.plan(ctx, prune=True)
    # The change is named by its secret id: the key is not declared any more.
    assert [c.action for c in plan if c.resource == "acme-staging-OLD_KEY"] == [Action.DELETE]
