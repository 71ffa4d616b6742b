"""The real Google Cloud CLI, for comparing shipit's requests with what `gcloud run deploy` sends.

gcloud only ever talks to tests/gcloud_recorder.py (an endpoint override and a proxy on 127.0.0.1),
with a throwaway configuration and a fake token: it never reaches Google.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from engines.requirements import EngineUnavailable


@dataclass(frozen=True)
class GcloudCli:
    path: str
    version: str


def find_gcloud() -> GcloudCli:
    """The gcloud binary (SHIPIT_TEST_GCLOUD or PATH), checked to run and to have the beta track."""
    path = os.environ.get("SHIPIT_TEST_GCLOUD") or shutil.which("gcloud")
    if not path:
        raise EngineUnavailable("gcloud (Google Cloud CLI) is not installed; see .ci/install.sh")
    try:
        out = subprocess.run(
            [path, "version", "--format=value(core)"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineUnavailable(f"gcloud does not run: {exc}") from exc
    if out.returncode != 0:
        raise EngineUnavailable(f"gcloud version failed: {out.stderr.strip()[-300:]}")
    return GcloudCli(path, out.stdout.strip() or "?")
