"""The Artifact Registry part of `push`, through the real ArtifactRegistryClient (REST) against fakegcp."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakegcp import FakeGCP
from fakegcp.fixtures import fake_gcp, fake_gcp_mock
from shipit.config import load_config, resolve_target
from shipit.errors import RemoteError, UsageError
from shipit.names import repository_name
from shipit.output import Console
from shipit.plan import Action
from shipit.steps import push
from shipit.steps.context import StepContext

__all__ = ["fake_gcp", "fake_gcp_mock"]

REPO = repository_name("acme-staging", "us-central1", "apps")
CREATE = "artifactregistry.projects.locations.repositories.create"
# Only prebuilt images: the push plan then needs the Artifact Registry API and nothing else.
CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
registry: {repository: apps}
services:
  api: {image: "us-docker.pkg.dev/acme/base/api@sha256:%s"}
""" % ("a" * 64)


@pytest.fixture
def ctx(
    tmp_path: Path, fake_gcp_mock: FakeGCP, gcp_token: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StepContext]:
    monkeypatch.delenv("SHIPIT_REGISTRY_HOST", raising=False)
    (tmp_path / "shipit.yaml").write_text(CONFIG)
    target = resolve_target(load_config(tmp_path / "shipit.yaml", "shipit.yaml"), "staging")
    console = Console(stdout=io.StringIO(), stderr=io.StringIO())
    yield StepContext(target=target, console=console)


def test_repository_is_created_only_when_missing(ctx: StepContext, fake_gcp_mock: FakeGCP) -> None:
    assert ctx.target.registry_host == "us-central1-docker.pkg.dev"
    plan = push.plan(ctx)
    repo_change = plan.changes[0]
    assert (repo_change.action, repo_change.resource) == (Action.CREATE, f"repository {REPO}")
    assert fake_gcp_mock.mutating_calls() == []  # planning writes nothing
    result = push.apply(ctx, plan)
    assert result == {"api": "us-docker.pkg.dev/acme/base/api@sha256:" + "a" * 64}
    created = fake_gcp_mock.artifacts.repositories[REPO]
    assert created["format"] == "DOCKER"
    assert created["labels"] == {"app": "acme", "env": "staging", "managed-by": "shipit"}
    assert len(fake_gcp_mock.calls_to(CREATE)) == 1

    again = push.plan(ctx)
    assert not again.has_changes and again.changes[0].summary == "exists"
    push.apply(ctx, again)
    assert len(fake_gcp_mock.calls_to(CREATE)) == 1


def test_existing_repository_is_left_alone(ctx: StepContext, fake_gcp_mock: FakeGCP) -> None:
    fake_gcp_mock.artifacts.add_repository(REPO, labels={"owner": "terraform"})
    plan = push.plan(ctx)
    assert not plan.has_changes
    push.apply(ctx, plan)
    assert fake_gcp_mock.mutating_calls() == []
    assert fake_gcp_mock.artifacts.repositories[REPO]["labels"] == {"owner": "terraform"}


def test_repository_of_another_format_is_a_usage_error(ctx: StepContext, fake_gcp_mock: FakeGCP) -> None:
    fake_gcp_mock.artifacts.add_repository(REPO, format="MAVEN")
    with pytest.raises(UsageError, match="exists with format MAVEN, not DOCKER"):
        push.plan(ctx)


def test_adapter_create_race_and_errors(ctx: StepContext, fake_gcp_mock: FakeGCP) -> None:
    registry = ctx.remote.artifacts
    assert registry.get_repository(REPO) is None
    repo = registry.create_docker_repository(REPO, labels={"managed-by": "shipit"}, description="d")
    assert (repo.name, repo.format, repo.labels) == (REPO, "DOCKER", (("managed-by", "shipit"),))
    # Someone created it meanwhile: the 409 is not an error, the existing repository is returned.
    assert registry.create_docker_repository(REPO, labels={}, description="d").name == REPO
    fake_gcp_mock.faults.fail("artifactregistry.projects.locations.repositories.get", status=403, times=1)
    with pytest.raises(RemoteError, match="permission denied"):
        registry.get_repository(REPO)
    fake_gcp_mock.faults.fail("artifactregistry.projects.locations.repositories.get", status=503, times=2)
    assert registry.get_repository(REPO) is not None  # retried
