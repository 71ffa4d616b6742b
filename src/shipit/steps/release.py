"""Release identity: a sortable release id and the git commit being deployed, both usable as labels."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipit.plan import Plan


def new_release_id(now: float | None = None) -> str:
    """e.g. "20250131t120501-3fa2": sorts by time, fits a Cloud Run label value and a revision suffix."""
    stamp = time.strftime("%Y%m%dt%H%M%S", time.gmtime(now if now is not None else time.time()))
    return f"{stamp}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class ReleaseRollback:
    """What `shipit rollback` (no name) reads from one kind of workload (services, workers) before it knows
    which release to roll back: the newest release running among them ("" when none), and ``plan_for``,
    which rolls back those whose running revision belongs to a given release (an empty plan when none)."""

    release: str
    plan_for: Callable[[str], Plan]


def git_sha(root: Path) -> str:
    """The commit being deployed: CI's variables first (Cloud Build, GitHub Actions), then `git`."""
    for var in ("SHIPIT_GIT_SHA", "COMMIT_SHA", "GITHUB_SHA"):
        value = os.environ.get(var, "").strip().lower()
        if re.fullmatch(r"[0-9a-f]{7,40}", value):
            return value
    from shipit.adapters.process import run
    from shipit.errors import ToolError

    try:
        result = run(["git", "rev-parse", "HEAD"], cwd=root, check=False, timeout=10)
    except ToolError:
        return "unknown"
    sha = result.stdout.strip().lower()
    return sha if result.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", sha) else "unknown"
