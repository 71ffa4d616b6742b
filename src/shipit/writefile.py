"""Writing generated files without clobbering a user's edits."""

from __future__ import annotations

import contextlib
import contextvars
import difflib
from collections.abc import Iterator
from pathlib import Path

from shipit.errors import UsageError

# Set by `--dry-run` around code that writes through write_generated (init's whole project, for one), so
# that code keeps one path for both runs instead of threading a flag through every writer.
_PREVIEW: contextvars.ContextVar[bool] = contextvars.ContextVar("shipit_write_preview", default=False)


@contextlib.contextmanager
def preview() -> Iterator[None]:
    """Inside: write_generated decides as usual and reports "would write"/"would update", writing nothing."""
    token = _PREVIEW.set(True)
    try:
        yield
    finally:
        _PREVIEW.reset(token)


def write_generated(path: Path, text: str, *, force: bool = False) -> str:
    """Write ``text`` to ``path``; returns "wrote", "updated" or "unchanged" ("would ..." inside preview()).
    Refuses to replace a different existing file unless ``force``, showing what would change."""
    dry = _PREVIEW.get()
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
        if dry:
            return "would update"
        path.write_text(text)
        return "updated"
    if dry:
        return "would write"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return "wrote"
