"""`shipit services deploy|status|rollback|promote` as subprocesses against fakegcp's HTTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from e2e_support import HealthServer, fake_server_env
from fakegcp.server import FakeGCPServer

CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
services:
  api:
    env: {LOG_LEVEL: info}
    health: {path: /health}
  web:
    env: {API_URL: "${services.api.url}"}
    cloud_run: {allow_unauthenticated: true}
"""
PARENT = "projects/acme-staging/locations/us-central1"


def image(service: str, letter: str = "a") -> str:
    return f"us-central1-docker.pkg.dev/acme-staging/acme/{service}@sha256:{letter * 64}"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The final JSON document (earlier lines are per-service JSON events)."""
        return json.loads(self.stdout.strip().splitlines()[-1])

    def events(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.strip().splitlines()[:-1]]


@dataclass
class Cli:
    root: Path
    server: FakeGCPServer
    health: HealthServer
    env: dict[str, str] = field(default_factory=dict)

    @property
    def fake(self) -> Any:
        return self.server.fake

    def __call__(self, *args: str) -> Result:
        env = {**os.environ, **fake_server_env(self.server.url), **self.env}
        env["SHIPIT_HEALTH_CHECK_URL_OVERRIDE"] = self.health.url
        env["SHIPIT_GIT_SHA"] = "1234567"
        proc = subprocess.run(
            [sys.executable, "-m", "shipit", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def service(self, name: str) -> dict[str, Any]:
        return self.fake.run.services[f"{PARENT}/services/{name}"]  # type: ignore[no-any-return]


@pytest.fixture
def cli(tmp_path: Path, fake_gcp_server: FakeGCPServer) -> Iterator[Cli]:
    (tmp_path / "shipit.yaml").write_text(CONFIG)
    health = HealthServer()
    yield Cli(tmp_path, fake_gcp_server, health)
    health.stop()
