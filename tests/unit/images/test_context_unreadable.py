"""A build context with unreadable entries (a database directory owned by another user) or symlink loops is
hashed with those entries left out and named, never a crash; a huge context is refused with its limit."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipit import contexthash
from shipit.contexthash import BuildInputs, ContextTooLarge, context_entries, hash_build


@pytest.fixture
def context() -> Iterator[Path]:
    # World-readable, so a child process running as an unprivileged user can walk it.
    root = Path(tempfile.mkdtemp(prefix="shipit-ctx-"))
    root.chmod(0o755)
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / "app.py").write_text("print('hi')\n")
    (root / "pgdata").mkdir(mode=0o700)
    (root / "pgdata" / "PG_VERSION").write_text("16\n")
    (root / "secret.key").write_text("k")
    (root / "secret.key").chmod(0o600)
    (root / "loop").symlink_to("loop")
    (root / "up").symlink_to("..")
    for path in (root, root / "Dockerfile", root / "app.py"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield root
    shutil.rmtree(root)


def _as_nobody(fn: object) -> dict[str, object]:
    """Run ``fn`` in a forked child as uid 65534 (root reads everything, so root cannot see the problem)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            result = fn()  # type: ignore[operator]
            payload = json.dumps({"ok": result})
        except BaseException as exc:  # the parent asserts on it
            payload = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
        os.write(write, payload.encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.waitpid(pid, 0)
    result: dict[str, object] = json.loads(b"".join(chunks))
    return result


def test_unreadable_entries_are_skipped_and_named(context: Path) -> None:
    def run() -> object:
        digest = hash_build(BuildInputs(context, context / "Dockerfile"))
        return {"files": digest.files, "skipped": list(digest.skipped)}

    result = _as_nobody(run)
    assert result == {"ok": {"files": 2, "skipped": ["pgdata", "secret.key"]}}


def test_symlinks_are_entries_not_walked(context: Path) -> None:
    kinds = {e.path: e.kind for e in context_entries(context)}
    assert kinds["loop"] == "l" and kinds["up"] == "l"
    assert hash_build(BuildInputs(context, context / "Dockerfile")).skipped == ()


def test_a_huge_context_is_refused(context: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contexthash, "MAX_CONTEXT_ENTRIES", 3)
    with pytest.raises(ContextTooLarge):
        context_entries(context)


def test_a_bad_dockerignore_pattern_is_ignored(context: Path) -> None:
    (context / ".dockerignore").write_text("[z-a]\napp.py\n")
    assert "app.py" not in {e.path for e in context_entries(context)}
