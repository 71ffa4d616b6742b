"""`shipit secrets ...` as a subprocess against fakegcp's HTTP server (real client, real sockets)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from secrets_cli_support import AUDIT_HOOK, CONFIG, Cli

from fakegcp import FakeGCP
from fakegcp.server import FakeGCPServer


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    root = tmp_path / "app"
    root.mkdir()
    (root / "shipit.yaml").write_text(CONFIG)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(AUDIT_HOOK)
    fake = FakeGCP()
    with FakeGCPServer(fake) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_"))}
        env.update(
            CLOUDSDK_AUTH_ACCESS_TOKEN="test-token",
            CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER=url,
            CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN=url,
            CLOUDSDK_API_ENDPOINT_OVERRIDES_ARTIFACTREGISTRY=url,
            XDG_STATE_HOME=str(tmp_path / "state"),
            SHIPIT_TEST_AUDIT_LOG=str(tmp_path / "audit.log"),
            PYTHONPATH=os.pathsep.join([str(hooks), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            NO_COLOR="1",
        )
        yield Cli(root, fake, env)
