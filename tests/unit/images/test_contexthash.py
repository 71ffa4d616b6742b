"""Content hashing of builds and .dockerignore semantics (Docker's, not gitignore's)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shipit.contexthash import BuildInputs, DockerIgnore, context_entries, hash_build


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        (["*.pyc"], "a.pyc", True),
        (["*.pyc"], "pkg/a.pyc", False),  # anchored at the root, unlike gitignore
        (["**/*.pyc"], "pkg/sub/a.pyc", True),
        (["**/*.pyc"], "a.pyc", True),
        (["node_modules"], "node_modules/x/index.js", True),  # a matching directory excludes its contents
        (["node_modules"], "web/node_modules/x.js", False),
        (["/build"], "build/out.txt", True),  # a leading slash is the context root
        (["./build"], "build/out.txt", True),
        (["docs/*.md"], "docs/a.md", True),
        (["docs/*.md"], "docs/sub/a.md", False),
        (["docs/**"], "docs/sub/a.md", True),
        (["a?c"], "abc", True),
        (["a?c"], "a/c", False),
        (["[ab].txt"], "b.txt", True),
        (["[!ab].txt"], "b.txt", False),
        (["*", "!keep.txt"], "keep.txt", False),  # the last match wins
        (["*", "!keep.txt", "keep.txt"], "keep.txt", True),
        (["logs", "!logs/keep.log"], "logs/keep.log", False),
        (["logs", "!logs/keep.log"], "logs/other.log", True),
        (["# comment", "", "  spaced.txt  "], "spaced.txt", True),
        (["# comment"], "# comment", False),
    ],
)
def test_dockerignore_semantics(patterns: list[str], path: str, excluded: bool) -> None:
    assert DockerIgnore(patterns).excludes(path) is excluded


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_entries_prune_excluded_dirs_but_honour_reinclusion(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            ".dockerignore": "node_modules\nlogs\n!logs/keep.log\n*.tmp\n",
            "app.py": "x",
            "node_modules/a/index.js": "x",
            "logs/keep.log": "k",
            "logs/drop.log": "d",
            "x.tmp": "t",
            "src/y.tmp": "kept: *.tmp is anchored",
        },
    )
    paths = {e.path for e in context_entries(tmp_path) if e.kind == "f"}
    assert paths == {".dockerignore", "app.py", "logs/keep.log", "src/y.tmp"}


def test_may_reinclude_below() -> None:
    ignore = DockerIgnore(["logs", "!logs/keep.log", "cache"])
    assert ignore.may_reinclude_below("logs")
    assert not ignore.may_reinclude_below("cache")
    assert DockerIgnore(["x", "!**/keep"]).may_reinclude_below("x")


@pytest.fixture
def context(tmp_path: Path) -> Path:
    _tree(
        tmp_path,
        {
            "Dockerfile": "FROM busybox\nCOPY . /app\n",
            ".dockerignore": "ignored/\n*.log\n",
            "app.txt": "hello",
            "lib/util.txt": "util",
            "ignored/notes.txt": "n",
            "debug.log": "l",
        },
    )
    return tmp_path


def _hash(context: Path, **kw: object) -> str:
    inputs = BuildInputs(context=context, dockerfile=context / "Dockerfile", **kw)  # type: ignore[arg-type]
    return hash_build(inputs).tag


def test_ignored_edits_keep_the_tag_and_included_edits_change_it(context: Path) -> None:
    base = _hash(context)
    assert base.startswith("c-") and len(base) == 26
    assert _hash(context) == base  # stable
    (context / "ignored" / "notes.txt").write_text("changed")
    (context / "debug.log").write_text("changed")
    (context / "ignored" / "new.txt").write_text("new")
    assert _hash(context) == base
    (context / "lib" / "util.txt").write_text("util!")
    changed = _hash(context)
    assert changed != base
    (context / "lib" / "util.txt").write_text("util")
    assert _hash(context) == base
    (context / "lib" / "new.txt").write_text("")
    assert _hash(context) != base


def test_mode_symlinks_and_empty_dirs_count(context: Path) -> None:
    base = _hash(context)
    os.chmod(context / "app.txt", 0o755)
    assert _hash(context) != base
    os.chmod(context / "app.txt", 0o644)
    assert _hash(context) == base
    (context / "empty").mkdir()
    with_dir = _hash(context)
    assert with_dir != base
    os.symlink("app.txt", context / "link")
    assert _hash(context) != with_dir


def test_build_settings_are_part_of_the_hash(context: Path) -> None:
    base = _hash(context)
    assert _hash(context, target="runtime") != base
    assert _hash(context, args={"A": "1"}) != base
    assert _hash(context, args={"A": "1"}) != _hash(context, args={"A": "2"})
    assert _hash(context, platform="linux/arm64") != base
    assert _hash(context, secret_ids=("NPM_TOKEN",)) != base
    (context / "Dockerfile").write_text("FROM busybox\nCOPY . /srv\n")
    assert _hash(context) != base


def test_dockerfile_outside_the_context(tmp_path: Path, context: Path) -> None:
    outside = tmp_path.parent / (tmp_path.name + "-df")
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM busybox\n")
    result = hash_build(BuildInputs(context=context, dockerfile=outside / "Dockerfile"))
    assert result.files == 4  # Dockerfile, .dockerignore, app.txt, lib/util.txt
