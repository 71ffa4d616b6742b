"""What changed in a git range: the files between a commit and the work tree, and a file as it was then.

Every call goes through :func:`shipit.adapters.process.run` (an argv list, never a shell); the ref the user
typed is checked to name a commit before it is used, and can never be taken for an option.
"""

from __future__ import annotations

from pathlib import Path

from shipit.adapters.process import run, which
from shipit.errors import UsageError


def _git(root: Path, *args: str, check: bool = True) -> str | None:
    result = run([which("git", hint="install git"), "-C", str(root), *args], check=check, timeout=60)
    return result.stdout if result.returncode == 0 else None


def toplevel(root: Path) -> Path:
    out = _git(root, "rev-parse", "--show-toplevel", check=False)
    if out is None:
        raise UsageError(f"{root} is not in a git work tree", hint="--changed-since needs the project in git")
    return Path(out.strip()).resolve()


def commit_of(root: Path, ref: str) -> str:
    """The commit ``ref`` names, or a UsageError (exit 2) saying it names none."""
    if not ref or ref.startswith("-"):
        raise UsageError(f"--changed-since {ref!r}: not a git revision", hint="e.g. --changed-since origin/main")
    out = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if not out or not out.strip():
        raise UsageError(
            f"--changed-since {ref}: no such commit in this repository",
            hint="fetch it first (git fetch origin main) or name a branch, tag or commit that exists",
        )
    return out.strip()


def changed_files(root: Path, commit: str) -> set[Path]:
    """Absolute paths of the files that differ between ``commit`` and the work tree: committed since, staged,
    modified, deleted, renamed (both names) and untracked (not ignored)."""
    top = toplevel(root)
    diffed = _git(root, "diff", "--name-only", "--no-renames", "-z", commit, "--") or ""
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "--full-name", "-z", "--", ".") or ""
    names = [n for n in diffed.split("\0") + untracked.split("\0") if n]
    return {(top / name).resolve() for name in names}


def file_at(root: Path, commit: str, path: Path) -> str | None:
    """The text of ``path`` (absolute, in the work tree) at ``commit``; None when it did not exist then."""
    top = toplevel(root)
    relative = path.resolve().relative_to(top).as_posix()
    return _git(root, "show", f"{commit}:{relative}", check=False)
