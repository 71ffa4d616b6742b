"""The migrate step through the REAL run_v2 clients (REST) against fakegcp, in-process via responses."""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fakegcp import FakeGCP
from fakegcp.fixtures import fake_gcp, fake_gcp_mock
from shipit.config import load_config, resolve_target
from shipit.output import Console
from shipit.plan import Plan
from shipit.steps import migrate
from shipit.steps.context import RunOptions, StepContext
from step_results import typed_results

__all__ = ["fake_gcp", "fake_gcp_mock"]

PROJECT = "acme-staging"
REGION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
JOB = f"{PARENT}/jobs/acme-migrate-main"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
databases:
  main:
    migrate: {command: ["alembic", "upgrade", "head"], service: api, timeout: 5m}
services:
  api:
    env: {LOG_LEVEL: info}
    secrets: [STRIPE_KEY]
    secret_files: {/secrets/key.json: GCP_KEY}
    databases: [main]
    cloud_run: {args: ["--serve"], memory: 1Gi}
  web:
    env: {API_URL: "${services.api.url}"}
"""


def image(service: str, digest: str = DIGEST_A) -> str:
    return f"us-central1-docker.pkg.dev/{PROJECT}/acme/{service}@{digest}"


def version(key: str, n: int) -> str:
    return f"projects/{PROJECT}/secrets/acme-staging-{key}/versions/{n}"


def results(digest: str = DIGEST_A, stripe: int = 3) -> dict[str, Any]:
    """What the push, secrets and infra steps hand over in a full deploy."""
    return {
        "push": {"api": image("api", digest), "web": image("web", digest)},
        "secrets": {
            "STRIPE_KEY": version("STRIPE_KEY", stripe),
            "GCP_KEY": version("GCP_KEY", 1),
            "DATABASE_URL": version("DATABASE_URL", 2),
        },
        "infra": {
            "vpc_connector": f"{PARENT}/connectors/acme",
            "database_connection_names": {"main": f"{PROJECT}:{REGION}:acme-main"},
            "database_url_secrets": {"main": "acme-staging-DATABASE_URL"},
            "service_accounts": {"api": f"acme-api@{PROJECT}.iam.gserviceaccount.com"},
        },
    }


@dataclass
class Project:
    root: Path
    fake: FakeGCP
    stderr: io.StringIO = field(default_factory=io.StringIO)

    def write(self, text: str = CONFIG) -> None:
        (self.root / "shipit.yaml").write_text(textwrap.dedent(text))

    def ctx(self, results: dict[str, Any] | None = None, **options: Any) -> StepContext:
        loaded = load_config(self.root / "shipit.yaml", "shipit.yaml")
        target = resolve_target(loaded, "staging")
        return StepContext(
            target=target,
            console=Console(stdout=io.StringIO(), stderr=self.stderr),
            options=RunOptions(yes=True, **options),
            results=typed_results(results),
        )

    def plan(self, results: dict[str, Any] | None = None, **options: Any) -> tuple[StepContext, Plan]:
        ctx = self.ctx(results, **options)
        return ctx, migrate.plan(ctx)

    def deploy(self, results: dict[str, Any] | None = None) -> tuple[Plan, dict[str, Any]]:
        ctx, plan = self.plan(results)
        return plan, migrate.apply(ctx, plan)

    def job(self) -> dict[str, Any]:
        return self.fake.run.jobs.jobs[JOB]  # type: ignore[no-any-return]

    def executions(self) -> list[dict[str, Any]]:
        return [e for n, e in self.fake.run.jobs.executions.items() if n.startswith(JOB + "/")]

    def writes(self) -> list[str]:
        return [c.method_id or "" for c in self.fake.mutating_calls()]


@pytest.fixture
def project(tmp_path: Path, fake_gcp_mock: FakeGCP, gcp_token: str) -> Project:
    p = Project(tmp_path, fake_gcp_mock)
    p.write()
    return p
