"""Writing generated files without clobbering a user's edits."""

from __future__ import annotations

import difflib
from pathlib import Path

from shipit.errors import UsageError


def write_generated(path: Path, text: str, *, force: bool = False) -> str:
    """Write ``text`` to ``path``; returns "wrote", "updated" or "unchanged". Refuses to replace a
    different existing file unless ``force``, showing what would change."""
    if path.exists():
        current = path.read_text()
        if current == text:
            return "unchanged"
        if not force:
            diff = "".join(
                list(difflib.unified_diff(current.splitlines(True), text.splitlines(True), str(path), "generated"))[:40]
            )
            raise UsageError(
                f"{path} exists and differs from what shipit would write:\n{diff}", hint="pass --force to overwrite it"
            )
        path.write_text(text)
        return "updated"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return "wrote"
