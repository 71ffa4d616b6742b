"""Paths shipit reads or writes stay inside the project (the directory of shipit.yaml).

Each path is joined to the project root, resolved (symlinks included) and must land inside the root: `env_file:
/etc/shadow`, `dockerfile: ../../etc/passwd`, `infra.dir: /abs` or a symlink pointing out are refused at load
time. A user who really means it says so next to the path: `allow_outside_project: true`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from shipit.config.build import Build
from shipit.config.models import ShipitConfig

Path_ = tuple[str | int, ...]
_OPT_OUT = "set allow_outside_project: true next to it if this is intended"


def _escapes(root: Path, path: Path) -> str | None:
    """Why ``path`` is not inside ``root``, or None when it is."""
    try:
        resolved = path.resolve()
    except (RuntimeError, OSError):  # RuntimeError: a symlink loop (Python < 3.13)
        return "is a symlink loop"
    if resolved == root or resolved.is_relative_to(root):
        return None
    return f"resolves to {resolved}, outside the project directory {root}"


def _check(root: Path, relative: str, base: Path | None = None) -> str | None:
    if "\x00" in relative:
        return "contains a NUL character"
    return _escapes(root, (base or root) / relative)


def path_problems(config: ShipitConfig, root: Path) -> Iterator[tuple[Path_, str, str | None]]:
    """(path, message, hint) for each configured path that leaves the project without an explicit opt-out."""
    try:
        root = root.resolve()
    except (RuntimeError, OSError):
        return
    builds: list[tuple[Path_, Build | None]] = []
    for name, svc in config.services.items():
        builds.append((("services", name, "build"), svc.build))
        builds.extend((("services", name, "sidecars", side, "build"), sc.build) for side, sc in svc.sidecars.items())
    for base, build in builds:
        if build is None or build.allow_outside_project:
            continue
        problem = _check(root, build.context)
        if problem:
            yield (*base, "context"), f"'{build.context}' {problem}", _OPT_OUT
            continue
        if build.dockerfile is not None:
            problem = _check(root, build.dockerfile, root / build.context)
            if problem:
                yield (*base, "dockerfile"), f"'{build.dockerfile}' {problem}", _OPT_OUT
    if not config.secrets.allow_outside_project:
        problem = _check(root, config.secrets.env_file)
        if problem:
            yield ("secrets", "env_file"), f"'{config.secrets.env_file}' {problem}", _OPT_OUT
    for env_name, environment in config.environments.items():
        env_file = environment.secrets.env_file
        if env_file is None or environment.secrets.allow_outside_project:
            continue
        problem = _check(root, env_file)
        if problem:
            yield ("environments", env_name, "secrets", "env_file"), f"'{env_file}' {problem}", _OPT_OUT
    if not config.infra.allow_outside_project:
        problem = _check(root, config.infra.dir)
        if problem is None and (root / config.infra.dir).resolve() == root:
            problem = "is the project directory itself: generated Terraform needs its own directory"
        if problem:
            yield ("infra", "dir"), f"'{config.infra.dir}' {problem}", _OPT_OUT
