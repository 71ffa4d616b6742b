"""The verify step checks each serving revision once, also one whose rollout an interrupted run left."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from shipit.config import load_config, resolve_target
from shipit.output import Console
from shipit.plan import Plan
from shipit.remote import Remote
from shipit.results import ServicesResult
from shipit.steps import verify
from shipit.steps.context import StepContext
from shipit.steps.services.api import HealthResult

CONFIG = """\
version: 1
app: acme
environments: {staging: {project: acme-staging, region: us-central1}}
services:
  api: {health: {path: /health, timeout: 5s}}
  web: {health: {path: null}}
"""


class Checker:
    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.calls: list[tuple[str, str]] = []

    def __call__(self, url: str, path: str, timeout: float) -> HealthResult:
        self.calls.append((url, path))
        return HealthResult(self.ok, "HTTP 200" if self.ok else "HTTP 500")


def _ctx(tmp_path: Path, action: str, revision: str, checker: Checker | None = None) -> StepContext:
    (tmp_path / "shipit.yaml").write_text(CONFIG)
    target = resolve_target(load_config(tmp_path / "shipit.yaml"), None)
    console = Console(stdout=io.StringIO(), stderr=io.StringIO())
    ctx = StepContext(target, console, remote=Remote(health=checker))
    ctx.results["services"] = ServicesResult(
        {
            "api": {"action": action, "ok": True, "url": "https://api-x.a.run.app", "revision": revision},
            "web": {"action": action, "ok": True, "url": "https://web-x.a.run.app", "revision": "web-1"},
        }
    )
    return ctx


def test_a_new_revision_is_checked_once_and_remembered(tmp_path: Path) -> None:
    checker = Checker()
    verify.apply(_ctx(tmp_path, "create", "api-1", checker), verify.plan(_ctx(tmp_path, "create", "api-1")))
    assert checker.calls == [("https://api-x.a.run.app", "/health")]
    again = Checker()
    verify.apply(_ctx(tmp_path, "no-op", "api-1", again), Plan.of("verify", ()))
    assert again.calls == []


def test_an_unverified_serving_revision_is_checked_even_when_nothing_changed(tmp_path: Path) -> None:
    # A previous run was interrupted after Cloud Run took api-2 but before its health check.
    verify.apply(_ctx(tmp_path, "create", "api-1", Checker()), Plan.of("verify", ()))
    checker = Checker()
    verify.apply(_ctx(tmp_path, "no-op", "api-2", checker), Plan.of("verify", ()))
    assert checker.calls == [("https://api-x.a.run.app", "/health")]


def test_a_failed_check_fails_the_release_and_is_not_remembered(tmp_path: Path) -> None:
    with pytest.raises(verify.HealthCheckFailed, match=r"api: GET /health -> HTTP 500") as info:
        verify.apply(_ctx(tmp_path, "create", "api-1", Checker(ok=False)), Plan.of("verify", ()))
    assert "no earlier revision to roll back to" in info.value.message
    assert info.value.exit_code == 1
    checker = Checker()
    verify.apply(_ctx(tmp_path, "no-op", "api-1", checker), Plan.of("verify", ()))
    assert checker.calls == [("https://api-x.a.run.app", "/health")]


def test_the_readiness_probe_path_is_checked_when_there_is_one(tmp_path: Path) -> None:
    config = CONFIG.replace(
        "api: {health: {path: /health, timeout: 5s}}",
        "api: {health: {path: /health, timeout: 5s}, cloud_run: {probes: {readiness: {path: /ready}}}}",
    )
    (tmp_path / "shipit.yaml").write_text(config)
    target = resolve_target(load_config(tmp_path / "shipit.yaml"), None)
    checker = Checker()
    ctx = StepContext(target, Console(stdout=io.StringIO(), stderr=io.StringIO()), remote=Remote(health=checker))
    ctx.results["services"] = ServicesResult(
        {"api": {"action": "create", "ok": True, "url": "https://api-x.a.run.app"}}
    )
    verify.apply(ctx, verify.plan(ctx))
    assert checker.calls == [("https://api-x.a.run.app", "/ready")]
