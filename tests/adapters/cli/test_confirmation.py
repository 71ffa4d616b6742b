"""Every command that changes remote state or deletes local state, found by walking the click tree, under
the one confirmation policy: no terminal -> exit 2 naming --yes, nothing changed; --json without --yes ->
exit 2; a terminal and "n" -> exit 1 "cancelled", nothing changed; --yes -> it proceeds.

Google APIs are the real clients against fakegcp (in-process); infra runs the real terraform on a
module of built-in resources; `local down --volumes` runs the real compose.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import responses

from adapters.deploy.conftest import DIGEST_B, Project, image
from cli_runner import invoke
from fakegcp import FakeGCP
from shipit.adapters.gcp import auth
from shipit.cli.app import Effect, effect_of
from unit.cli.command_tree import leaves

MUTATING = sorted(leaf.name for leaf in leaves() if effect_of(leaf.command) in (Effect.REMOTE, Effect.DELETES))
ONE = "api:\n  env: {LOG_LEVEL: info}\n"
BASE = "version: 1\napp: acme\nenvironments:\n  staging: {project: acme-staging, region: us-central1}\n"
TF_ROOT = 'terraform {\n  backend "local" {}\n}\n\nresource "terraform_data" "network" {\n  input = "acme-vpc"\n}\n'


@dataclass
class Scenario:
    args: tuple[str, ...]
    state: Callable[[], object]  # a snapshot of everything the command may change
    calls: Callable[[], int] = lambda: 0  # remote calls of any kind so far (reads included)


Builder = Callable[[Path, pytest.FixtureRequest], Scenario]


def _gcp(tmp_path: Path, request: pytest.FixtureRequest) -> Project:
    fake = request.getfixturevalue("fake_gcp_mock")
    request.getfixturevalue("gcp_token")
    return Project(tmp_path, fake)


def _writes(fake: FakeGCP) -> Callable[[], object]:
    return lambda: [c.method_id for c in fake.mutating_calls()]


def _remote(project: Project, args: tuple[str, ...]) -> Scenario:
    return Scenario(args, _writes(project.fake), calls=lambda: len(project.fake.calls))


def deploy(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    project = _gcp(tmp_path, request)
    project.write(ONE)
    return _remote(project, ("deploy", "--only", "services", "--image", f"api={image('api')}"))


def services_deploy(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    project = _gcp(tmp_path, request)
    project.write(ONE)
    return _remote(project, ("services", "deploy", "--image", f"api={image('api')}"))


def rollback(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    project = _gcp(tmp_path, request)
    project.write(ONE)
    project.deploy({"api": image("api")})
    project.deploy({"api": image("api", DIGEST_B)})
    project.fake.reset_calls()
    return _remote(project, ("rollback", "api"))


def promote(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    project = _gcp(tmp_path, request)
    project.write(ONE)
    project.deploy({"api": image("api")})
    project.deploy({"api": image("api", DIGEST_B)}, canary=10, services=("api",))
    project.fake.reset_calls()
    return _remote(project, ("promote", "api"))


def destroy(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    project = _gcp(tmp_path, request)
    project.write(ONE)
    project.deploy({"api": image("api")})
    project.fake.reset_calls()
    return _remote(project, ("destroy",))


def preview_delete(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    project = _gcp(tmp_path, request)
    project.write(ONE)
    project.deploy({"api": image("api")})
    args = ("deploy", "--preview", "pr-1", "--only", "preview", "--yes", "--image", f"api={image('api', DIGEST_B)}")
    made = invoke(*args)
    assert made.exit_code == 0, made.stderr
    project.fake.reset_calls()
    return _remote(project, ("preview", "delete", "pr-1"))


def push(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    # A prebuilt image needs no docker; the missing Artifact Registry repository is the change.
    project = _gcp(tmp_path, request)
    project.write(f"api:\n  image: {image('api')}\n")
    return _remote(project, ("push",))


def secrets_sync(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    project = _gcp(tmp_path, request)
    project.write("api:\n  secrets: [STRIPE_KEY]\n")
    (tmp_path / ".env").write_text("STRIPE_KEY=sk_test_confirmation\n")
    return _remote(project, ("secrets", "sync"))


def jobs_run(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    from shipit.adapters.gcp.clients import GcpClients
    from shipit.adapters.gcp.jobs import CloudRunJobs

    project = _gcp(tmp_path, request)
    project.write(ONE, extra=f"jobs:\n  cleanup: {{image: {image('api')}, args: [cleanup]}}\n")
    parent = "projects/acme-staging/locations/us-central1"
    spec = {"template": {"template": {"containers": [{"image": image("api"), "args": ["cleanup"]}]}}}
    CloudRunJobs(GcpClients()).create_job(parent, "cleanup", spec)
    project.fake.reset_calls()
    return _remote(project, ("jobs", "run", "cleanup"))


def infra_bootstrap(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    from adapters.infra.test_bootstrap import BASE as STORAGE
    from adapters.infra.test_bootstrap import FakeStorage

    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN", "test-token")
    monkeypatch.setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE", STORAGE.removesuffix("storage/v1") + "storage/v1/")
    auth.reset_cache()
    storage = FakeStorage()
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.add_callback(responses.GET, re.compile(STORAGE + "/b/[^/?]+$"), callback=storage.get)
    mock.add_callback(responses.POST, re.compile(STORAGE + r"/b\?project=.*"), callback=storage.insert)
    mock.start()
    request.addfinalizer(mock.stop)
    request.addfinalizer(auth.reset_cache)
    (tmp_path / "shipit.yaml").write_text(BASE + "services:\n  api: {}\n")
    return Scenario(("infra", "bootstrap"), lambda: dict(storage.buckets), calls=lambda: len(storage.calls))


def _terraform_project(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], object]:
    request.getfixturevalue("terraform_bin")
    (tmp_path / "shipit.yaml").write_text(BASE + "infra: {backend: local}\nservices:\n  api: {}\n")
    root = tmp_path / "infra" / "environments" / "staging"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(TF_ROOT)
    state = root / "terraform.tfstate"
    return lambda: json.loads(state.read_text())["resources"] if state.exists() else None


def infra_apply(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    return Scenario(("infra", "apply"), _terraform_project(tmp_path, request))


def infra_destroy(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    state = _terraform_project(tmp_path, request)
    applied = invoke("infra", "apply", "--yes")
    assert applied.exit_code == 0, applied.stderr
    return Scenario(("infra", "destroy"), state)


def local_down(tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    engine = request.getfixturevalue("docker_engine")
    request.getfixturevalue("compose_cmd")
    # The engine is shared with other sessions: a project name of this test's own.
    app = "down" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:8]
    config = BASE.replace("app: acme", f"app: {app}") + "databases:\n  main: {}\nservices:\n  api: {image: busybox}\n"
    (tmp_path / "shipit.yaml").write_text(config)
    # The database volume as `local up` leaves it (compose v1 names it PROJECT_VOLUME and labels it).
    project, volume = f"{app}-staging", "db-main-data"
    client = engine.client()
    client.volume.create(
        f"{project}_{volume}",
        labels={"com.docker.compose.project": project, "com.docker.compose.volume": volume},
    )
    request.addfinalizer(lambda: client.volume.remove([f"{project}_{volume}"]) if state() else None)

    def state() -> object:
        return [v.name for v in client.volume.list() if v.name == f"{project}_{volume}"]

    return Scenario(("local", "down", "--volumes"), state)


SCENARIOS: dict[str, tuple[Builder, tuple[pytest.MarkDecorator, ...]]] = {
    "deploy": (deploy, ()),
    "services deploy": (services_deploy, ()),
    "rollback": (rollback, ()),
    "promote": (promote, ()),
    "preview delete": (preview_delete, ()),
    "push": (push, ()),
    "destroy": (destroy, ()),
    "secrets sync": (secrets_sync, ()),
    "jobs run": (jobs_run, ()),
    "infra bootstrap": (infra_bootstrap, ()),
    "infra apply": (infra_apply, (pytest.mark.terraform,)),
    "infra destroy": (infra_destroy, (pytest.mark.terraform,)),
    "local down": (local_down, (pytest.mark.docker, pytest.mark.compose)),
}


def test_every_mutating_command_has_a_scenario() -> None:
    assert sorted(SCENARIOS) == MUTATING


@dataclass
class Case:
    name: str
    scenario: Scenario
    before: object = field(default=None)
    calls_before: int = 0


@pytest.fixture(params=[pytest.param(n, marks=SCENARIOS[n][1], id=n.replace(" ", "-")) for n in SCENARIOS])
def case(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Case]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    scenario = SCENARIOS[request.param][0](tmp_path, request)
    yield Case(request.param, scenario, scenario.state(), scenario.calls())


def test_no_terminal_refuses_with_exit_2_naming_yes(case: Case) -> None:
    result = invoke(*case.scenario.args)
    assert result.exit_code == 2, result.stderr
    refusal = r"error: refusing to .+ without confirmation: there is no terminal to ask on \(pass --yes to go ahead\)\n"
    assert re.fullmatch(refusal, result.stderr)
    assert case.scenario.state() == case.before
    assert case.scenario.calls() == case.calls_before  # refused before any remote call, reads included


def test_json_without_yes_refuses_even_on_a_terminal(case: Case) -> None:
    result = invoke(*case.scenario.args, "--json", tty=True)
    assert result.exit_code == 2, result.stderr
    error = json.loads(result.stdout.strip().splitlines()[-1])["error"]
    assert error["exit_code"] == 2
    assert re.fullmatch(
        r"refusing to .+ without confirmation: --json is on \(pass --yes to go ahead\)", error["message"]
    )
    assert case.scenario.state() == case.before
    assert case.scenario.calls() == case.calls_before


def test_declining_on_a_terminal_exits_1_cancelled(case: Case) -> None:
    result = invoke(*case.scenario.args, tty=True, input="n\n")
    assert result.exit_code == 1, result.output
    assert "cancelled" in result.stderr.splitlines()[-1]
    assert case.scenario.state() == case.before


def test_yes_proceeds(case: Case) -> None:
    result = invoke(*case.scenario.args, "--yes")
    assert result.exit_code == 0, result.output
    assert case.scenario.state() != case.before
