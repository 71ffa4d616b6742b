"""Shared pieces of the secrets adapter tests: the sample project and a handle on it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from fakegcp import FakeGCP
from shipit.config import load_config, resolve_target
from shipit.output import Console
from shipit.steps.context import StepContext

PROJECT = "acme-staging"
CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1, secrets: {env_file: .env.staging}}
secrets: {extra: [EXTRA_KEY]%(secrets)s}
services:
  api:
    secrets: [STRIPE_KEY, DB_PASSWORD]
    secret_files: {/secrets/sa.json: SA_JSON}
  web:
    build: {context: ., secrets: [NPM_TOKEN]}
    secrets: [STRIPE_KEY]
"""
KEYS = ("DB_PASSWORD", "EXTRA_KEY", "NPM_TOKEN", "SA_JSON", "STRIPE_KEY")
VALUES = {
    "DB_PASSWORD": "pw-Zq81-canary",
    "EXTRA_KEY": "extra-7781",
    "NPM_TOKEN": "npm_tok_0451",
    "SA_JSON": '{"type": "service_account",\n "key": "line2"}',
    "STRIPE_KEY": "sk_test_9931",
}
SM = "secretmanager.projects.secrets."


def secret_id(key: str) -> str:
    return f"acme-staging-{key}"


def render_env(values: dict[str, str]) -> str:
    lines = []
    for key, value in values.items():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'{key}="{escaped}"')
    return "\n".join(lines) + "\n"


@dataclass
class Project:
    """A shipit project on disk plus the fake behind it."""

    root: Path
    fake: FakeGCP
    stderr: io.StringIO

    def write_env(self, values: dict[str, str] | str) -> None:
        text = values if isinstance(values, str) else render_env(values)
        (self.root / ".env.staging").write_text(text)

    def ctx(self) -> StepContext:
        loaded = load_config(self.root / "shipit.yaml", "shipit.yaml")
        target = resolve_target(loaded, "staging")
        return StepContext(target=target, console=Console(stdout=io.StringIO(), stderr=self.stderr))

    def versions(self, key: str) -> dict[str, str]:
        return self.fake.secrets.version_states(f"projects/{PROJECT}/secrets/{secret_id(key)}")

    def value(self, key: str, version: str = "latest") -> bytes:
        return self.fake.secrets.value(f"projects/{PROJECT}/secrets/{secret_id(key)}", version)
