"""Verify in a multi-region environment: each region's URL is checked, load-balanced services are not."""

from __future__ import annotations

import io
from pathlib import Path

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
environments:
  global:
    project: acme-global
    regions: [europe-west1, us-central1]
    DOMAIN
services:
  api: {health: {path: /health}}
  web: {health: {path: /}, cloud_run: {allow_unauthenticated: true}}
"""


class Checker:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, url: str, path: str, timeout: float) -> HealthResult:
        self.calls.append((url, path))
        return HealthResult(True, "HTTP 200")


def _run(tmp_path: Path, domain: str) -> tuple[list[tuple[str, str]], str]:
    (tmp_path / "shipit.yaml").write_text(CONFIG.replace("DOMAIN", domain))
    target = resolve_target(load_config(tmp_path / "shipit.yaml"), None)
    out = io.StringIO()
    checker = Checker()
    ctx = StepContext(target, Console(stdout=out, stderr=out), remote=Remote(health=checker))
    entry = {"action": "create", "ok": True}
    ctx.results["services"] = ServicesResult(
        {
            "api": entry | {"url": "https://api-x-ew.a.run.app", "revision": "api-1", "region": "europe-west1"},
            "api@us-central1": entry | {"url": "https://api-x-uc.a.run.app", "revision": "api-2"},
            "web": entry | {"url": "https://web-x-ew.a.run.app", "revision": "web-1", "region": "europe-west1"},
            "web@us-central1": entry | {"url": "https://web-x-uc.a.run.app", "revision": "web-2"},
        }
    )
    verify.apply(ctx, Plan.of("verify", ()))
    return checker.calls, out.getvalue()


def test_every_region_is_checked_on_its_own_url(tmp_path: Path) -> None:
    calls, _ = _run(tmp_path, "")
    assert sorted(calls) == [
        ("https://api-x-ew.a.run.app", "/health"),
        ("https://api-x-uc.a.run.app", "/health"),
        ("https://web-x-ew.a.run.app", "/"),
        ("https://web-x-uc.a.run.app", "/"),
    ]


def test_a_service_behind_the_load_balancer_is_left_to_cloud_run_readiness(tmp_path: Path) -> None:
    calls, output = _run(tmp_path, "domain: acme.example.com\n    routes: {'/*': web}")
    assert sorted(calls) == [("https://api-x-ew.a.run.app", "/health"), ("https://api-x-uc.a.run.app", "/health")]
    assert "web@us-central1: behind the load balancer, checked by Cloud Run readiness only" in output
