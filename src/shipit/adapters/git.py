"""What builds need to know from git: the commit, whether a directory has uncommitted changes, the origin."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from shipit.adapters.process import run


@dataclass(frozen=True)
class GitInfo:
    sha: str | None  # None outside a git work tree (or without git)
    source: str | None  # origin URL without credentials

    @property
    def short(self) -> str | None:
        return self.sha[:12] if self.sha else None


def _git(root: Path, *args: str) -> str | None:
    if shutil.which("git") is None:
        return None
    result = run(["git", "-C", str(root), *args], check=False, timeout=30)
    return result.stdout.strip() if result.returncode == 0 else None


def strip_credentials(url: str) -> str:
    """https://user:token@host/x.git -> https://host/x.git (scp-style git@host:x stays as is)."""
    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return url


def git_info(root: Path) -> GitInfo:
    sha = _git(root, "rev-parse", "--verify", "HEAD")
    if not sha:
        return GitInfo(None, None)
    origin = _git(root, "config", "--get", "remote.origin.url")
    return GitInfo(sha, strip_credentials(origin) if origin else None)


def is_clean(root: Path, path: Path) -> bool:
    """True when ``path`` has no uncommitted change (untracked files count, ignored ones do not)."""
    out = _git(root, "status", "--porcelain", "--untracked-files=all", "--", str(path))
    return out == ""
