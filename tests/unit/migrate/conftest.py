"""Pure planning of the migrate step against an in-memory Cloud Run (no HTTP, no google clients)."""

from __future__ import annotations

import copy
import io
import textwrap
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from shipit.adapters.gcp.jobs import ExecutionState, JobState
from shipit.config import load_config, resolve_target
from shipit.errors import ConflictError, RemoteError
from shipit.names import MIGRATE_HASH_LABEL
from shipit.output import Console
from shipit.remote import Remote
from shipit.steps.context import RunOptions, StepContext
from step_results import typed_results

PARENT = "projects/acme-staging/locations/us-central1"
JOB = f"{PARENT}/jobs/acme-migrate-main"
IMAGE_A = "us-central1-docker.pkg.dev/acme-staging/acme/api@sha256:" + "a" * 64
IMAGE_B = "us-central1-docker.pkg.dev/acme-staging/acme/api@sha256:" + "b" * 64
CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
databases:
  main:
    migrate: {command: "alembic upgrade head", timeout: 120s}
services:
  api:
    env: {LOG_LEVEL: info}
    secrets: [STRIPE_KEY]
    databases: [main]
    cloud_run: {args: ["--serve"], startup_cpu_boost: true}
"""
Json = dict[str, Any]


@dataclass
class MemoryRun:
    """Cloud Run jobs, executions and services as plain state. Executions finish as ``outcome`` says."""

    jobs: dict[str, JobState] = field(default_factory=dict)
    executions: dict[str, ExecutionState] = field(default_factory=dict)
    services: dict[str, Json] = field(default_factory=dict)
    outcome: str = "succeeded"  # "succeeded", "failed" or "running" (never finishes)
    calls: list[str] = field(default_factory=list)
    offline: bool = False

    def _call(self, what: str) -> None:
        if self.offline:
            raise AssertionError(f"remote call while offline: {what}")
        self.calls.append(what)

    @property
    def writes(self) -> list[str]:
        return [c for c in self.calls if c.split(" ")[0] in ("create_job", "update_job", "run_job")]

    # ServiceReader
    def get_service(self, name: str) -> Json | None:
        self._call(f"get_service {name}")
        return copy.deepcopy(self.services.get(name))

    # JobsApi
    def normalize(self, spec: Json) -> Json:
        return copy.deepcopy(spec)

    def get_job(self, name: str) -> JobState | None:
        self._call(f"get_job {name}")
        return self.jobs.get(name)

    def get_execution(self, name: str) -> ExecutionState | None:
        self._call(f"get_execution {name}")
        return self.executions.get(name)

    def create_job(self, parent: str, job_id: str, spec: Json) -> JobState:
        self._call(f"create_job {job_id}")
        job = JobState(f"{parent}/jobs/{job_id}", "e1", copy.deepcopy(spec))
        self.jobs[job.name] = job
        return job

    def update_job(self, name: str, spec: Json, etag: str) -> JobState:
        self._call(f"update_job {name}")
        job = self.jobs[name]
        if etag != job.etag:
            raise ConflictError("etag mismatch")
        job = replace(job, spec=copy.deepcopy(spec), etag=job.etag + "+")
        self.jobs[name] = job
        return job

    def run_job(self, name: str, etag: str | None = None) -> ExecutionState:
        self._call(f"run_job {name}")
        job = self.jobs[name]
        if etag is not None and etag != job.etag:
            raise ConflictError("etag mismatch")
        execution = self.execution(
            name, job.spec["labels"][MIGRATE_HASH_LABEL], self.outcome, n=len(self.executions) + 1
        )
        self.jobs[name] = replace(job, latest_execution=execution.name, etag=job.etag + "r")
        return execution

    def wait(self, execution: str, timeout: float) -> ExecutionState:
        self._call(f"wait {execution}")
        state = self.executions[execution]
        if state.running:
            raise RemoteError(f"execution {state.execution_id} still running after {int(timeout)}s")
        return state

    def execution(self, job: str, digest: str, outcome: str, n: int = 1) -> ExecutionState:
        state = ExecutionState(
            name=f"{job}/executions/run-{n}",
            done=outcome != "running",
            succeeded=outcome == "succeeded",
            labels={MIGRATE_HASH_LABEL: digest},
            messages=("Task run-1-task0 failed: no such table",) if outcome == "failed" else (),
            log_uri="https://console.cloud.google.com/logs/viewer?x=1",
        )
        self.executions[state.name] = state
        return state


@dataclass
class Setup:
    root: Path
    run: MemoryRun = field(default_factory=MemoryRun)
    # Constants for the tests (this folder is no package: they cannot import from conftest).
    PARENT = PARENT
    JOB = JOB
    IMAGE_A = IMAGE_A
    IMAGE_B = IMAGE_B
    CONFIG = CONFIG

    def write(self, text: str = CONFIG) -> None:
        (self.root / "shipit.yaml").write_text(textwrap.dedent(text))

    def ctx(self, image: str | None = IMAGE_A, stripe: int = 3, **options: Any) -> StepContext:
        target = resolve_target(load_config(self.root / "shipit.yaml", "shipit.yaml"), "staging")
        results: dict[str, Any] = {
            "secrets": {
                "STRIPE_KEY": f"projects/acme-staging/secrets/acme-staging-STRIPE_KEY/versions/{stripe}",
                "DATABASE_URL": "projects/acme-staging/secrets/acme-staging-DATABASE_URL/versions/1",
            }
        }
        if image:
            results["push"] = {"api": image}
        console = Console(stdout=io.StringIO(), stderr=io.StringIO())
        # The in-memory Cloud Run answers both the jobs and the service reads.
        remote = Remote(jobs=self.run, run=self.run)
        return StepContext(target, console, RunOptions(**options), typed_results(results), remote)


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    s = Setup(tmp_path)
    s.write()
    return s
