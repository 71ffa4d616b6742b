"""The services step through the REAL run_v2 clients (REST) against fakegcp, in-process via responses."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fakegcp import FakeGCP
from fakegcp.fixtures import fake_gcp, fake_gcp_mock
from shipit.config import load_config, resolve_target
from shipit.output import Console
from shipit.plan import Plan
from shipit.remote import Remote
from shipit.steps import services as services_step
from shipit.steps.context import RunOptions, StepContext
from shipit.steps.services.api import HealthChecker, HealthResult
from step_results import typed_results

__all__ = ["fake_gcp", "fake_gcp_mock"]

PROJECT = "acme-staging"
REGION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
BASE = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
"""


def image(service: str, digest: str = DIGEST_A) -> str:
    return f"us-central1-docker.pkg.dev/{PROJECT}/acme/{service}@{digest}"


def svc_name(service: str) -> str:
    return f"{PARENT}/services/{service}"


@dataclass
class Project:
    root: Path
    fake: FakeGCP
    health: dict[str, bool] = field(default_factory=dict)  # tag URL -> healthy
    checked: list[str] = field(default_factory=list)
    stderr: io.StringIO = field(default_factory=io.StringIO)

    def write(self, services_yaml: str, extra: str = "") -> None:
        text = BASE + extra + "services:\n" + textwrap.indent(textwrap.dedent(services_yaml), "  ")
        (self.root / "shipit.yaml").write_text(text)

    def ctx(
        self,
        images: dict[str, str] | None = None,
        results: dict[str, Any] | None = None,
        concurrency: int = 8,
        health: HealthChecker | None = None,
    ) -> StepContext:
        loaded = load_config(self.root / "shipit.yaml", "shipit.yaml")
        target = resolve_target(loaded, "staging")
        opts = RunOptions(images=tuple((images or {}).items()), yes=True, concurrency=concurrency)
        return StepContext(
            target=target,
            console=Console(stdout=io.StringIO(), stderr=self.stderr),
            options=opts,
            results=typed_results(results),
            # The real Cloud Run clients talk to the HTTP fake; only the health check is this project's.
            remote=Remote(health=health or self.checker),
        )

    def checker(self, url: str, path: str, timeout: float) -> HealthResult:
        self.checked.append(url + path)
        ok = self.health.get(url, True)
        return HealthResult(ok, "HTTP 200" if ok else "HTTP 503")

    def plan(
        self, images: dict[str, str] | None = None, results: dict[str, Any] | None = None, **options: Any
    ) -> tuple[StepContext, Plan]:
        ctx = self.ctx(images, results, health=options.pop("health_checker", None))
        options.setdefault("git_sha", "0" * 40)
        return ctx, services_step.plan(ctx, services_step.DeployOptions(**options))

    def deploy(
        self, images: dict[str, str] | None = None, results: dict[str, Any] | None = None, **options: Any
    ) -> tuple[Plan, dict[str, Any]]:
        ctx, plan = self.plan(images, results, **options)
        return plan, services_step.apply(ctx, plan)

    def service(self, name: str) -> dict[str, Any]:
        return self.fake.run.services[svc_name(name)]  # type: ignore[no-any-return]

    def container(self, name: str) -> dict[str, Any]:
        return self.service(name)["template"]["containers"][0]  # type: ignore[no-any-return]

    def revisions(self, name: str) -> list[str]:
        return self.fake.run.revision_names(svc_name(name))  # type: ignore[no-any-return]

    def writes(self) -> list[str]:
        return [c.method_id or "" for c in self.fake.mutating_calls()]


@pytest.fixture
def project(tmp_path: Path, fake_gcp_mock: FakeGCP, gcp_token: str) -> Project:
    return Project(tmp_path, fake_gcp_mock)


ProjectFactory = Callable[..., Project]
