"""Shared pieces of the secrets CLI tests: the sample config, the audit hook and the CLI runner."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakegcp import FakeGCP

PROJECT = "acme-staging"
CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1, secrets: {env_file: .env.staging}}
services:
  api:
    secrets: [STRIPE_KEY, DB_PASSWORD]
    secret_files: {/secrets/sa.json: SA_JSON}
  web:
    build: {context: ., secrets: [NPM_TOKEN]}
"""

# Records every process the CLI starts (argv included), so a test can prove no value reached `ps`.
AUDIT_HOOK = """\
import os, sys
_log = os.environ.get("SHIPIT_TEST_AUDIT_LOG")
if _log:
    def _hook(event, args):
        if event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"):
            with open(_log, "a") as fh:
                fh.write(event + " " + repr(args) + "\\n")
    sys.addaudithook(_hook)
"""


@dataclass
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Cli:
    root: Path
    fake: FakeGCP
    env: dict[str, str]
    results: list[Result] = field(default_factory=list)

    def __call__(self, *args: str, expect: int | None = 0) -> Result:
        argv = (sys.executable, "-m", "shipit", *args)
        proc = subprocess.run(
            argv, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        result = Result(tuple(args), proc.returncode, proc.stdout, proc.stderr)
        self.results.append(result)
        if expect is not None:
            assert proc.returncode == expect, (
                f"shipit {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return result

    def write_env(self, text: str) -> None:
        (self.root / ".env.staging").write_text(text)

    def mutating(self) -> list[str]:
        return [c.method_id or "" for c in self.fake.mutating_calls()]
