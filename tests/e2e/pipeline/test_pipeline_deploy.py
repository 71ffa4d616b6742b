"""One project deployed once (module fixture), then: the no-op re-deploy, `plan`, the CLI contract, a secret change.

Tests run in file order; each starts from a converged deployment (the secret change runs last).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pipeline_support import (
    CANARY,
    CANARY_2,
    JOB,
    PARENT,
    SECRET_ID,
    SERVICE_ACCOUNTS,
    Project,
    ProjectFactory,
    Result,
)

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.terraform]


@pytest.fixture(scope="module")
def deployed(project_factory: ProjectFactory) -> tuple[Project, Result]:
    project = project_factory()
    result = project("deploy", "--yes")
    return project, result


def _container(service: dict[str, Any]) -> dict[str, Any]:
    return service["template"]["containers"][0]  # type: ignore[no-any-return]


def _env(service: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in _container(service).get("env", [])}


def test_first_deploy_creates_everything(deployed: tuple[Project, Result]) -> None:
    project, result = deployed
    assert result.returncode == 0, str(result)
    fake = project.fake

    # images: built from the local engine, pushed to the real registry, deployed by digest
    for name in ("api", "web"):
        image = _container(project.service(name))["image"]
        repo, _, digest = image.partition("@")
        assert repo == f"{project.registry.host}/acme-staging/{project.repository}/{name}"
        assert digest.startswith("sha256:")
        status, _ = project.manifest(name, digest)
        assert status == 200, f"{name}: registry has no manifest {digest}"
    assert (project.root / ".shipit" / "images" / "staging.json").is_file()

    # secrets: created, and the service pinned to the exact version
    assert fake.secrets.value(f"projects/acme-staging/secrets/{SECRET_ID}", "1") == CANARY.encode()
    ref = _env(project.service("api"))["STRIPE_KEY"]["valueSource"]["secretKeyRef"]
    assert ref["secret"].endswith(SECRET_ID) and ref["version"] == "1"

    # terraform: applied with a local state, outputs cached and used by the services
    state = project.root / "infra" / "environments" / "staging" / "terraform.tfstate"
    assert state.is_file() and "terraform_data" in state.read_text()
    cached = json.loads((project.root / ".shipit" / "infra" / "staging" / "outputs.json").read_text())
    assert cached["outputs"]["service_accounts"] == SERVICE_ACCOUNTS
    for name in ("api", "web"):
        assert project.service(name)["template"]["serviceAccount"] == SERVICE_ACCOUNTS[name]
    db_ref = _env(project.service("api"))["DATABASE_URL"]["valueSource"]["secretKeyRef"]
    assert db_ref["secret"].endswith("acme-staging-DATABASE_URL") and db_ref["version"] == "1"

    # migration: a job with api's new image, run once, before any service existed
    job = fake.run.jobs.jobs[f"{PARENT}/jobs/{JOB}"]
    assert job["template"]["template"]["containers"][0]["image"] == _container(project.service("api"))["image"]
    assert len(fake.calls_to("run.projects.locations.jobs.run")) == 1
    order = [c.method_id for c in fake.calls if c.mutating]
    first_service = order.index("run.projects.locations.services.create")
    assert order.index("run.projects.locations.jobs.run") < first_service

    # ordering: api created before web, and web got api's URL
    creates = [c.query.get("serviceId") for c in fake.calls_to("run.projects.locations.services.create")]
    assert creates == ["api", "web"]
    assert _env(project.service("web"))["API_URL"]["value"] == project.service("api")["uri"]

    # verify: both health paths were checked on the services' hosts
    assert any(s.endswith("/health") for s in project.health.seen)
    assert any(s.endswith("/") and "web" in s for s in project.health.seen)

    # the timing table
    for step in ("build", "infra", "push", "secrets", "migrate", "services", "verify"):
        assert step in result.stdout
    assert "time" in result.stdout and "changes" in result.stdout


def test_second_deploy_changes_nothing(deployed: tuple[Project, Result]) -> None:
    project, first = deployed
    assert first.returncode == 0, str(first)
    project.fake.reset_calls()
    files = project.registry_files()
    images = project.images()
    since = time.time()
    result = project("deploy", "--yes")
    until = time.time() + 0.5
    assert "no changes" in result.output
    assert project.mutating() == []
    assert project.registry_files() == files, "the registry received an upload"
    assert project.images() == images
    events = project.docker_events(since, until)
    assert events == [], f"the engine built, tagged or pushed: {events}"


def test_plan_after_deploy_and_cli_contract(deployed: tuple[Project, Result]) -> None:
    project, first = deployed
    assert first.returncode == 0, str(first)
    project.fake.reset_calls()

    plan = project("plan")
    assert "no changes" in plan.output
    assert project.mutating() == []

    as_json = project("plan", "--json")
    document = json.loads(as_json.stdout)
    steps = [s["step"] for s in document["steps"]]
    assert set(steps) >= {"test", "build", "infra", "push", "secrets", "migrate", "services", "verify"}
    assert document["has_changes"] is False
    assert project.mutating() == []

    # Without --yes and without a TTY: a one-line refusal, exit 2 (needs something to deploy to ask).
    project.change_api("prompt")
    refused = project("deploy", expect=2)
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--yes" in lines[0], str(refused)
    assert "Traceback" not in refused.output
    assert project.mutating() == []

    # --json --yes: one JSON event per line, every line parses.
    events = project("deploy", "--json", "--yes")
    parsed = events.json_lines()
    kinds = [e.get("event") for e in parsed]
    assert "step_started" in kinds and "step_finished" in kinds and kinds[-1] == "done"
    project.change_api("hello")  # back to the first image: converge for the next tests
    project("deploy", "--yes")


def test_changed_secret_adds_one_version_and_one_revision(deployed: tuple[Project, Result]) -> None:
    project, first = deployed
    assert first.returncode == 0, str(first)
    api_before = project.revisions("api")
    web_before = project.revisions("web")
    project.fake.reset_calls()

    project.write_env(CANARY_2)
    result = project("deploy", "--yes")

    assert len(project.fake.calls_to("secretmanager.projects.secrets.addVersion")) == 1
    latest = project.fake.secrets.version_states(f"projects/acme-staging/secrets/{SECRET_ID}")
    assert len(latest) == 2, latest
    assert len(project.revisions("api")) == len(api_before) + 1
    assert project.revisions("web") == web_before
    ref = _env(project.service("api"))["STRIPE_KEY"]["valueSource"]["secretKeyRef"]
    assert ref["version"] == "2"
    mutating = {m.split()[0] for m in project.mutating()}
    # The migration job gets api's new secret version, but a rotated secret does not re-run a migration.
    assert mutating == {
        "secretmanager.projects.secrets.addVersion",
        "run.projects.locations.jobs.patch",
        "run.projects.locations.services.patch",
    }, result.output
    assert [c.path for c in project.fake.calls_to("run.projects.locations.services.patch")] == [
        f"/v2/{PARENT}/services/api"
    ]
