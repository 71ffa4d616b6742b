"""The deploy planner against an in-memory Cloud Run (no HTTP): render, diff, actions, notes."""

from __future__ import annotations

import copy
import dataclasses
import io
import textwrap
from pathlib import Path
from typing import Any

import pytest

from shipit.adapters.gcp.run import WriteResult
from shipit.config import load_config, resolve_target
from shipit.errors import UsageError
from shipit.output import Console
from shipit.plan import Action
from shipit.remote import Remote
from shipit.render.cloudrun import cpu_limit, prune
from shipit.steps import services as services_step
from shipit.steps.context import RunOptions, StepContext
from shipit.steps.services.diff import creates_revision, spec_diff
from shipit.steps.services.failure import explain
from step_results import typed_results

PARENT = "projects/acme-staging/locations/us-central1"
IMG = "us-central1-docker.pkg.dev/acme-staging/acme/api@sha256:" + "a" * 64


class MemoryRun:
    """Just enough of Cloud Run: services stored as given (plus uri/etag), policies, no revisions."""

    def __init__(self) -> None:
        self.services: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, dict[str, Any]] = {}
        self.writes = 0

    def normalize(self, body: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(body)

    def get_service(self, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.services.get(name))

    def list_services(self, parent: str) -> list[dict[str, Any]]:
        return list(self.services.values())

    def list_revisions(self, service: str) -> list[dict[str, Any]]:
        return []

    def get_revision(self, name: str) -> dict[str, Any] | None:
        return None

    def get_iam_policy(self, resource: str) -> dict[str, Any]:
        return copy.deepcopy(self.policies.get(resource, {}))

    def set_iam_policy(self, resource: str, policy: dict[str, Any]) -> dict[str, Any]:
        self.writes += 1
        self.policies[resource] = policy
        return policy

    def _store(self, name: str, body: dict[str, Any]) -> WriteResult:
        self.writes += 1
        rev = f"{name}/revisions/{name.rsplit('/', 1)[1]}-{self.writes:05d}"
        service = {
            **body,
            "name": name,
            "uri": f"https://{name.rsplit('/', 1)[1]}.run.app",
            "etag": str(self.writes),
            "latestCreatedRevision": rev,
            "latestReadyRevision": rev,
            "trafficStatuses": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
        }
        self.services[name] = service
        return WriteResult(copy.deepcopy(service))

    def create_service(self, parent: str, service_id: str, body: dict[str, Any]) -> WriteResult:
        return self._store(f"{parent}/services/{service_id}", body)

    def update_service(self, body: dict[str, Any]) -> WriteResult:
        assert body["etag"] == self.services[body["name"]]["etag"]
        return self._store(body["name"], {k: v for k, v in body.items() if k != "etag"})


def make_ctx(
    tmp_path: Path, services: str, images: dict[str, str] | None = None, results: dict[str, Any] | None = None
) -> StepContext:
    text = "version: 1\napp: acme\nenvironments:\n  staging: {project: acme-staging, region: us-central1}\n"
    text += "databases:\n  main: {}\nservices:\n" + textwrap.indent(textwrap.dedent(services), "  ")
    (tmp_path / "shipit.yaml").write_text(text)
    target = resolve_target(load_config(tmp_path / "shipit.yaml", "shipit.yaml"), "staging")
    return StepContext(
        target=target,
        console=Console(stdout=io.StringIO(), stderr=io.StringIO()),
        options=RunOptions(images=tuple((images or {}).items())),
        results=typed_results(results),
    )


OPTS = services_step.DeployOptions(git_sha="abc1234", release_id="r1")


def on(ctx: StepContext, api: MemoryRun) -> StepContext:
    """``ctx`` talking to ``api`` instead of Cloud Run."""
    return dataclasses.replace(ctx, remote=Remote(run=api))


def deploy(ctx: StepContext, api: MemoryRun) -> Any:
    ctx = on(ctx, api)
    plan = services_step.plan(ctx, OPTS)
    services_step.apply(ctx, plan)
    return plan


def test_create_update_noop(tmp_path: Path) -> None:
    api = MemoryRun()
    ctx = make_ctx(tmp_path, "api: {env: {A: '1'}}\n", {"api": IMG})
    assert [c.action for c in deploy(ctx, api)] == [Action.CREATE]
    assert [c.action for c in deploy(ctx, api)] == [Action.NOOP]
    ctx = make_ctx(tmp_path, "api: {env: {A: '2'}}\n")
    plan = deploy(ctx, api)
    assert [d.render() for d in plan.changes[0].diffs] == ['env.A: "1" -> "2"']


def test_no_image_for_new_service_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no image for service api"):
        services_step.plan(on(make_ctx(tmp_path, "api: {}\n"), MemoryRun()), OPTS)


def test_database_url_as_plain_env_is_refused(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, "api: {env: {U: '${databases.main.url}'}}\n", {"api": IMG})
    with pytest.raises(UsageError, match="database password"):
        services_step.plan(on(ctx, MemoryRun()), OPTS)


def test_notes_without_infra_outputs(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, "api: {databases: [main], secrets: [K]}\n", {"api": IMG})
    plan = services_step.plan(on(ctx, MemoryRun()), OPTS)
    notes = "\n".join(plan.notes)
    assert "default compute service account" in notes
    assert "no VPC connector known" in notes
    assert "'latest'" in notes


def test_two_secrets_in_one_directory_is_usage_error(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, "api: {secret_files: {/s/a: A, /s/b: B}}\n", {"api": IMG})
    with pytest.raises(UsageError, match="one secret per directory"):
        services_step.plan(on(ctx, MemoryRun()), OPTS)


def test_diff_ignores_server_defaults_but_sees_owned_removals() -> None:
    desired = {"template": {"containers": [{"image": "x", "env": [{"name": "A", "value": "1"}]}]}}
    live = copy.deepcopy(desired)
    live["template"]["serviceAccount"] = "123-compute@developer.gserviceaccount.com"
    live["launchStage"] = "GA"
    assert spec_diff(desired, live) == []
    live["template"]["containers"][0]["env"].append({"name": "OLD", "value": "x"})
    live["template"]["scaling"] = {"minInstanceCount": 3}
    assert [d.field for d in spec_diff(desired, live)] == ["env.OLD", "scaling.minInstanceCount"]


def test_service_level_fields_are_diffed_apart_from_the_template() -> None:
    desired = {"scaling": {"minInstanceCount": 1}, "template": {"containers": [{"image": "x"}]}}
    live = copy.deepcopy(desired)
    live["scaling"]["scalingMode"] = "AUTOMATIC"  # what Cloud Run reports when it was never set
    live["template"]["containers"][0]["name"] = "placeholder-1"  # a name another tool gave: not shipit's
    assert spec_diff(desired, live) == []
    live["scaling"]["maxInstanceCount"] = 4
    live["template"]["scaling"] = {"minInstanceCount": 3}
    diffs = spec_diff(desired, live)
    assert [d.field for d in diffs] == ["scaling.minInstanceCount", "service.scaling.maxInstanceCount"]
    assert creates_revision(diffs) and not creates_revision(diffs[1:])


def test_volatile_labels_are_not_a_change() -> None:
    desired = {"labels": {"shipit-release": "r2", "managed-by": "shipit"}, "template": {"containers": [{"image": "x"}]}}
    live = {"labels": {"shipit-release": "r1", "managed-by": "shipit"}, "template": {"containers": [{"image": "x"}]}}
    assert spec_diff(desired, live) == []


def test_prune_and_cpu() -> None:
    assert prune({"a": 0, "b": False, "c": [], "env": [{"name": "E", "value": ""}]}) == {
        "env": [{"name": "E", "value": ""}]
    }
    assert cpu_limit("0.5") == "500m" and cpu_limit("2") == "2" and cpu_limit("1000m") == "1"


@pytest.mark.parametrize(
    ("message", "words"),
    [
        (
            "The user-provided container failed to start and listen on the port defined provided by the PORT=8080",
            "0.0.0.0:$PORT",
        ),
        ("Image 'x' not found", "push the image"),
        ("Permission denied on secret: projects/1/secrets/S/versions/1", "secretAccessor"),
        ("Startup probe failed", "startup probe failed"),
        ("Application exited with code 1", "exited while starting"),
    ],
)
def test_explain(message: str, words: str) -> None:
    revision = {
        "name": "x/revisions/api-00002",
        "conditions": [{"type": "Ready", "state": "CONDITION_FAILED", "message": message}],
    }
    assert words in explain(revision, port=8080, image="img", service_account=None).render()
