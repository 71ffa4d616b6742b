"""Which services a git range affects (`shipit plan --changed-since REF`), for monorepos whose CI deploys only
what changed.

A service is affected when a file changed between REF and the work tree (commits since, staged, modified,
untracked) under its build context, is its Dockerfile, is under one of its ``build.watch`` paths, or when its
section of shipit.yaml changed (``services.NAME`` or the environment's overlay of it). A change to what every
service shares (``app``, ``registry``, the environment itself) affects them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipit.config import Target

# Top-level sections every service's deploy reads: a change there affects every service.
SHARED_SECTIONS = ("app", "registry")


@dataclass(frozen=True)
class ChangedSince:
    ref: str
    commit: str
    affected: Mapping[str, tuple[str, ...]]  # service -> why, in config order
    unchanged: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "commit": self.commit,
            "services": {name: list(reasons) for name, reasons in self.affected.items()},
            "unchanged": list(self.unchanged),
        }


def _under(path: Path, files: set[Path]) -> list[Path]:
    return sorted(f for f in files if f == path or path in f.parents)


def _display(target: Target, path: Path) -> str:
    try:
        return path.relative_to(target.root).as_posix() or "."
    except ValueError:
        return str(path)


def _files(count: int) -> str:
    return f"{count} file{'' if count == 1 else 's'}"


def _sections(document: Any, env: str, name: str) -> tuple[Any, Any]:
    if not isinstance(document, dict):
        return None, None
    services = document.get("services")
    environments = document.get("environments")
    environment = environments.get(env) if isinstance(environments, dict) else None
    overlay = environment.get("services") if isinstance(environment, dict) else None
    return (
        services.get(name) if isinstance(services, dict) else None,
        overlay.get(name) if isinstance(overlay, dict) else None,
    )


def _shared(document: Any, env: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        return {}
    shared = {key: document.get(key) for key in SHARED_SECTIONS}
    environments = document.get("environments")
    environment = environments.get(env) if isinstance(environments, dict) else None
    if isinstance(environment, dict):
        shared["environment"] = {k: v for k, v in environment.items() if k != "services"}
    return shared


def _config_reasons(target: Target, config_path: Path, old_text: str | None) -> dict[str, list[str]]:
    """service -> reasons its configuration changed, comparing shipit.yaml as written (before overlays)."""
    import yaml

    names = list(target.config.services)
    if old_text is None:
        return {n: [f"config ({target.config_file} is new since then)"] for n in names}
    try:
        old = yaml.safe_load(old_text)
        new = yaml.safe_load(config_path.read_text())
    except yaml.YAMLError:
        return {n: ["config (the earlier shipit.yaml cannot be parsed)"] for n in names}
    env = target.env_name
    if _shared(old, env) != _shared(new, env):
        return {n: ["config (shared: app, registry or the environment)"] for n in names}
    reasons: dict[str, list[str]] = {}
    for name in names:
        (old_base, old_overlay), (new_base, new_overlay) = _sections(old, env, name), _sections(new, env, name)
        if old_base != new_base:
            reasons.setdefault(name, []).append(f"config (services.{name})")
        if old_overlay != new_overlay:
            reasons.setdefault(name, []).append(f"config (environments.{env}.services.{name})")
    return reasons


def changed_since(target: Target, config_path: Path, ref: str) -> ChangedSince:
    """The services ``ref``..work tree affects, and why (``config_path``: the shipit.yaml ``target`` was loaded
    from). Raises UsageError (exit 2) for a ref that names no commit."""
    from shipit.adapters import gitrange

    root = target.root
    commit = gitrange.commit_of(root, ref)
    files = gitrange.changed_files(root, commit)
    config_path = config_path.resolve()
    old_text = gitrange.file_at(root, commit, config_path) if config_path in files else ""
    config = _config_reasons(target, config_path, old_text) if config_path in files else {}
    affected: dict[str, tuple[str, ...]] = {}
    for name, service in target.config.services.items():
        reasons: list[str] = []
        build = service.build if not service.image else None
        if build is not None:
            context = target.path(build.context)
            inside = _under(context, files)
            if inside:
                reasons.append(f"build context {_display(target, context)}/ ({_files(len(inside))})")
            dockerfile = (context / (build.dockerfile or "Dockerfile")).resolve()
            if dockerfile in files and dockerfile not in inside:
                reasons.append(f"Dockerfile {_display(target, dockerfile)}")
            for watched in build.watch:
                hits = _under(target.path(watched), files)
                if hits:
                    reasons.append(f"watch {watched} ({_files(len(hits))})")
        reasons.extend(config.get(name, []))
        if reasons:
            affected[name] = tuple(reasons)
    unchanged = tuple(n for n in target.config.services if n not in affected)
    return ChangedSince(ref, commit, affected, unchanged)
