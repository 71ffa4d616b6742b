"""validate checks what shipit.yaml points at, and plan says when the deploy would stop (exit codes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import invoke

CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
services:
  api:
    build: {context: ./api, target: runtime}
    secrets: [STRIPE_KEY]
"""
# Nothing reachable: the plan is offline, Docker is absent (the build step notes it), no credentials.
OFFLINE_ENV = {"DOCKER_HOST": "unix:///nonexistent/docker.sock", "NO_COLOR": "1"}


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "shipit.yaml").write_text(CONFIG)
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text("FROM scratch AS build\nFROM scratch AS runtime\n")
    (tmp_path / ".env").write_text("STRIPE_KEY=sk_test_value_123\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", OFFLINE_ENV["DOCKER_HOST"])
    return tmp_path


def test_validate_passes(app: Path) -> None:
    result = invoke("validate")
    assert (result.exit_code, result.stderr) == (0, "")


def test_validate_reports_a_missing_dockerfile_at_its_line(app: Path) -> None:
    (app / "api" / "Dockerfile").unlink()
    result = invoke("validate")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: shipit.yaml:7:22: services.api.build.context: Dockerfile 'Dockerfile' does not"
    )


def test_validate_checks_a_built_sidecar_like_a_service(app: Path) -> None:
    sidecar = "    sidecars:\n      proxy: {build: {context: ./proxy, secrets: [PROXY_TOKEN]}}\n"
    (app / "shipit.yaml").write_text(CONFIG + sidecar)
    result = invoke("validate")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: shipit.yaml:10:32: services.api.sidecars.proxy.build.context: './proxy' does not exist"
    ), result.stderr
    (app / "proxy").mkdir()
    (app / "proxy" / "Dockerfile").write_text("FROM scratch\n")
    result = invoke("validate")
    assert result.exit_code == 2
    assert "services.api.sidecars.proxy.build.secrets[0]: build secret PROXY_TOKEN is not in .env" in result.stderr


def test_validate_reports_a_missing_target_stage_with_did_you_mean(app: Path) -> None:
    (app / "api" / "Dockerfile").write_text("FROM scratch AS runtim\n")
    result = invoke("validate")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: shipit.yaml:7:37: services.api.build.target: stage 'runtime' is not in Dockerfile "
        "(did you mean 'runtim'?)\n"
    )


def test_validate_reports_a_secret_absent_from_the_env_file(app: Path) -> None:
    (app / ".env").write_text("STRIPE_KY=sk_test_value_123\n")
    result = invoke("validate")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: shipit.yaml:8:15: services.api.secrets[0]: secret STRIPE_KEY is not in .env "
        "(did you mean 'STRIPE_KY'?)\n"
    )
    assert "sk_test_value_123" not in result.output


def test_validate_reports_an_unset_env_reference(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHIPIT_TEST_UNSET", raising=False)
    (app / "shipit.yaml").write_text(CONFIG + "    env: {FROM_CI: '${env.SHIPIT_TEST_UNSET}'}\n")
    result = invoke("validate")
    assert result.exit_code == 2
    assert "services.api.env.FROM_CI: ${env.SHIPIT_TEST_UNSET} is not set in the environment" in result.stderr
    monkeypatch.setenv("SHIPIT_TEST_UNSET", "")
    assert invoke("validate").exit_code == 0


def test_an_env_file_line_without_equals_is_never_echoed(app: Path) -> None:
    (app / ".env").write_text("STRIPE_KEY=x\nghp_pastedTokenValue0123456789\n")
    result = invoke("validate")
    assert result.exit_code == 2
    assert result.stderr == "error: .env:2: not KEY=VALUE (write KEY=value, or KEY= for an empty value)\n"


def test_plan_ends_with_a_summary_and_exits_0(app: Path) -> None:
    result = invoke("plan", "--offline", env=OFFLINE_ENV)
    assert result.exit_code == 0, result.output
    last = result.stdout.splitlines()[-1]
    assert last.endswith(" to delete, 0 unchanged, 0 blockers") and " to create, " in last


def test_plan_detailed_exitcode_is_2_when_changes_are_pending(app: Path) -> None:
    result = invoke("plan", "--offline", "--detailed-exitcode", env=OFFLINE_ENV)
    assert result.exit_code == 2, result.output


def test_plan_with_a_blocker_exits_1_and_says_so(app: Path) -> None:
    (app / ".env").unlink()
    result = invoke("plan", "--offline", "--json", env=OFFLINE_ENV)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["summary"]["blockers"] == 1
    [secrets] = [s for s in document["steps"] if s["step"] == "secrets"]
    assert "STRIPE_KEY" in secrets["blockers"][0]
    human = invoke("plan", "--offline", env=OFFLINE_ENV)
    assert human.exit_code == 1
    assert human.stdout.splitlines()[-1].endswith(" unchanged, 1 blocker")
    assert "no changes" not in human.output


def test_plan_detailed_exitcode_makes_every_error_1(app: Path) -> None:
    (app / "api" / "Dockerfile").unlink()
    assert invoke("plan", "--offline", env=OFFLINE_ENV).exit_code == 2
    assert invoke("plan", "--offline", "--detailed-exitcode", env=OFFLINE_ENV).exit_code == 1
