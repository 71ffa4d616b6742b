"""`shipit doctor` against fake Service Usage and Resource Manager endpoints (two read-only calls)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from cli_runner import invoke
from shipit.config import load_config, resolve_target
from shipit.doctor import PERMISSIONS, check_cloud, check_terraform, required_apis

ROOT = Path(__file__).resolve().parents[3]
FULLSTACK = ROOT / "examples/fullstack/shipit.yaml"


@pytest.fixture
def target():  # type: ignore[no-untyped-def]
    return resolve_target(load_config(FULLSTACK), "staging")


@pytest.fixture
def apis(gcp_token: str) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def _serve(rsps: responses.RequestsMock, enabled: list[str], granted: list[str]) -> None:
    pages = [enabled[:3], enabled[3:]]

    def services(request):  # type: ignore[no-untyped-def]
        assert request.headers["Authorization"] == "Bearer test-token"
        page = 1 if "pageToken=p2" in request.url else 0
        body: dict[str, object] = {"services": [{"config": {"name": n}} for n in pages[page]]}
        if page == 0:
            body["nextPageToken"] = "p2"
        return 200, {}, json.dumps(body)

    def permissions(request):  # type: ignore[no-untyped-def]
        asked = json.loads(request.body)["permissions"]
        return 200, {}, json.dumps({"permissions": [p for p in asked if p in granted]})

    rsps.add_callback(
        responses.GET, "https://serviceusage.googleapis.com/v1/projects/shop-staging-123/services", callback=services
    )
    rsps.add_callback(
        responses.POST,
        "https://cloudresourcemanager.googleapis.com/v1/projects/shop-staging-123:testIamPermissions",
        callback=permissions,
    )


def test_everything_in_place(apis: responses.RequestsMock, target) -> None:  # type: ignore[no-untyped-def]
    _serve(apis, required_apis(target), list(PERMISSIONS))
    checks = {c.name: c for c in check_cloud(target)}
    assert [c.status for c in checks.values()] == ["ok"] * 4
    assert "sqladmin.googleapis.com" in required_apis(target) and "pubsub.googleapis.com" in required_apis(target)


def test_missing_api_and_permission_each_come_with_a_fix(apis: responses.RequestsMock, target) -> None:  # type: ignore[no-untyped-def]
    enabled = [a for a in required_apis(target) if a != "sqladmin.googleapis.com"]
    granted = [p for p in PERMISSIONS if p != "secretmanager.versions.add"]
    _serve(apis, enabled, granted)
    checks = {c.name: c for c in check_cloud(target)}
    assert checks["apis"].status == "fail"
    assert checks["apis"].detail == "not enabled: sqladmin.googleapis.com"
    assert "gcloud services enable sqladmin.googleapis.com" in checks["apis"].fix
    assert checks["permissions"].status == "fail"
    assert checks["permissions"].detail == "missing: secretmanager.versions.add"
    assert checks["permissions"].fix == "grant roles/secretmanager.admin"


def test_permission_denied_on_the_project_is_translated(apis: responses.RequestsMock, target) -> None:  # type: ignore[no-untyped-def]
    apis.add(
        responses.GET,
        "https://serviceusage.googleapis.com/v1/projects/shop-staging-123/services",
        status=403,
        json={
            "error": {"code": 403, "message": "caller lacks serviceusage.services.list", "status": "PERMISSION_DENIED"}
        },
    )
    checks = {c.name: c for c in check_cloud(target)}
    assert checks["project"].status == "fail"
    assert "permission denied" in checks["project"].detail


def test_terraform_version_is_checked() -> None:
    check = check_terraform()
    assert check.status in ("ok", "fail")
    if check.status == "ok":
        assert check.detail[0].isdigit()


def test_cli_exit_code_and_json(apis: responses.RequestsMock) -> None:
    result = invoke("-f", str(FULLSTACK), "doctor", "--offline", "--json")
    data = json.loads(result.stdout.splitlines()[0])
    names = [c["name"] for c in data["checks"]]
    assert names[:2] == ["config", "docker engine"] and "terraform" in names
    failed = [c for c in data["checks"] if c["status"] == "fail"]
    assert result.exit_code == (1 if failed else 0)


def test_doctor_finds_terraform_where_the_commands_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHIPIT_TERRAFORM", str(tmp_path / "no-terraform"))
    check = check_terraform()
    assert (check.status, check.detail) == ("fail", f"terraform not found at {tmp_path / 'no-terraform'}")


def test_doctor_reports_the_builder_shipit_build_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    from shipit.adapters.docker import Docker
    from shipit.doctor import check_builder

    monkeypatch.setenv("SHIPIT_BUILDER", "classic")
    check = check_builder(Docker())
    assert (check.status, check.detail) == ("ok", "SHIPIT_BUILDER: the classic builder is used")


def test_doctor_honours_the_compose_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from shipit.doctor import check_compose

    monkeypatch.setenv("SHIPIT_COMPOSE", "v1")
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker-compose v1 here: forced v1 is not found
    assert check_compose().status == "warn"
