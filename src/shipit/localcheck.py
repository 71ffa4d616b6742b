"""Checks that need local files but no network: run by `validate`, and by every command before its first remote
or Docker call.

shipit.yaml itself is checked when it loads; these read what it points at: the build contexts and Dockerfiles
(including the `target` stage), the environment's env file (parsed, bounded) and the process environment that
`${env.X}` references read. A problem here is exit 2 with the line of shipit.yaml it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shipit.config.build import Build
from shipit.config.checks import did_you_mean
from shipit.config.loader import LoadedConfig
from shipit.config.refs import ReferenceError_, parse_refs
from shipit.config.target import Target
from shipit.config.yamlmarks import Path_, format_path
from shipit.errors import ConfigError, ConfigIssue, Location

DOCKERFILE_LIMIT = 1024 * 1024
_STAGE = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Preflight:
    """What the checks found that is not an error: shown as warnings."""

    warnings: tuple[str, ...] = ()


def _issue(loaded: LoadedConfig, path: Path_, message: str, hint: str | None = None) -> ConfigIssue:
    location = loaded.marks.location(path) if loaded.marks is not None else Location(loaded.display)
    return ConfigIssue(location, format_path(path), message, hint)


def dockerfile_stages(path: Path, display: str) -> list[str]:
    from shipit.boundedread import read_bounded

    text = read_bounded(path, display, DOCKERFILE_LIMIT, what="Dockerfile").decode("utf-8", "replace")
    return [m.group(1) for m in _STAGE.finditer(text)]


def _builds(target: Target, services: list[str] | None) -> Iterator[tuple[str, Path_, Build]]:
    """(service, config path, build) of every image shipit builds: the services' and their sidecars'."""
    for name, svc in target.config.services.items():
        if services is not None and name not in services:
            continue
        if svc.build is not None and svc.image is None:
            yield name, ("services", name, "build"), svc.build
        for side, sidecar in svc.sidecars.items():
            if sidecar.build is not None:
                yield name, ("services", name, "sidecars", side, "build"), sidecar.build


def _build_issues(loaded: LoadedConfig, target: Target, services: list[str] | None) -> Iterator[ConfigIssue]:
    root = target.root
    for name, base, build in _builds(target, services):
        try:
            context = (root / build.context).resolve()
        except (RuntimeError, OSError):
            yield _issue(loaded, (*base, "context"), f"'{build.context}' is a symlink loop", "fix the path")
            continue
        if not context.is_dir():
            what = "is not a directory" if context.exists() else "does not exist"
            yield _issue(
                loaded, (*base, "context"), f"'{build.context}' {what}", "fix the path (relative to shipit.yaml)"
            )
            continue
        relative = build.dockerfile or "Dockerfile"
        where: Path_ = (*base, "dockerfile") if build.dockerfile else (*base, "context")
        try:
            dockerfile = (context / relative).resolve()
        except (RuntimeError, OSError):
            yield _issue(loaded, where, f"Dockerfile '{relative}' is a symlink loop", "fix the link")
            continue
        if not dockerfile.is_file():
            yield _issue(
                loaded,
                where,
                f"Dockerfile '{relative}' does not exist in {build.context}",
                f"write one with `shipit dockerfile {name} --kind python|node|static`, or set build.dockerfile"
                if "sidecars" not in base
                else "write one, or set build.dockerfile",
            )
            continue
        if build.target:
            try:
                stages = dockerfile_stages(dockerfile, relative)
            except ConfigError as exc:
                yield _issue(loaded, where, f"Dockerfile '{relative}': {exc.issues[0].message}")
                continue
            if build.target not in stages:
                hint = did_you_mean(build.target, stages) or (
                    f"stages: {', '.join(stages)}" if stages else "name a stage with FROM image AS name"
                )
                yield _issue(loaded, (*base, "target"), f"stage '{build.target}' is not in {relative}", hint)


def _env_ref_issues(loaded: LoadedConfig, target: Target, environ: dict[str, str]) -> Iterator[ConfigIssue]:
    for name, svc in target.config.services.items():
        for var, value in svc.env.items():
            try:
                refs = parse_refs(value)
            except ReferenceError_:
                continue
            for ref in refs:
                if ref.kind == "env" and ref.name not in environ:
                    yield _issue(
                        loaded,
                        ("services", name, "env", var),
                        f"{ref} is not set in the environment shipit runs in",
                        f"export {ref.name}=... before running shipit (an empty value must be set explicitly)",
                    )


def preflight(
    loaded: LoadedConfig,
    target: Target,
    *,
    environ: dict[str, str],
    secrets_in_env_file: bool,
    services: list[str] | None = None,
) -> Preflight:
    """Raise ConfigError (exit 2) with every local problem of ``target``; return warnings.

    ``secrets_in_env_file``: declared secrets must be in the env file when it exists (validate); a plan or a
    deploy may instead find them in Secret Manager, so they check only build secrets here.
    """
    from shipit.envfile import read_env_file

    issues = list(_build_issues(loaded, target, services))
    issues.extend(_env_ref_issues(loaded, target, environ))
    warnings: list[str] = []
    display = _display(target)
    try:
        env = read_env_file(target.env_file, display)
    except ConfigError as exc:
        issues.extend(exc.issues)
        raise ConfigError(issues) from None
    for _, base, build in _builds(target, services):
        for i, key in enumerate(build.secrets):
            if key not in env.values:
                hint = did_you_mean(key, env.values) or f"add {key}=value to {display} (build secrets stay local)"
                where: Path_ = (*base, "secrets", i)
                issues.append(_issue(loaded, where, f"build secret {key} is not in {display}", hint))
    declared = _declared_secrets(target)
    if secrets_in_env_file and declared:
        if not env.exists:
            warnings.append(
                f"{display} does not exist: the {len(declared)} declared secret(s) must already be in Secret Manager"
            )
        else:
            for key, path in declared.items():
                if key not in env.values:
                    hint = did_you_mean(key, env.values) or f"add {key}=value to {display}"
                    issues.append(_issue(loaded, path, f"secret {key} is not in {display}", hint))
    if issues:
        unique = list(dict.fromkeys(issues))
        raise ConfigError(unique)
    return Preflight(tuple(warnings))


def _declared_secrets(target: Target) -> dict[str, Path_]:
    declared: dict[str, Path_] = {}
    for name, svc in target.config.services.items():
        for i, key in enumerate(svc.secrets):
            declared.setdefault(key, ("services", name, "secrets", i))
        for mount, key in svc.secret_files.items():
            declared.setdefault(key, ("services", name, "secret_files", mount))
    for i, key in enumerate(target.config.secrets.extra):
        declared.setdefault(key, ("secrets", "extra", i))
    if target.config.test is not None:
        for i, key in enumerate(target.config.test.secrets):
            declared.setdefault(key, ("test", "secrets", i))
    return declared


def _display(target: Target) -> str:
    from shipit.steps.secrets import env_display

    return env_display(target)


def before_steps(
    loaded: LoadedConfig,
    target: Target,
    steps: list[str],
    *,
    images: tuple[tuple[str, str], ...] = (),
    services: tuple[str, ...] = (),
) -> Preflight:
    """The local checks a pipeline command runs before its first remote or Docker call.

    Build contexts are checked only when the build step runs, and not for services given an --image.
    """
    import os

    given = {name for name, _ in images}
    if "build" in steps:
        wanted = list(services) or list(target.config.services)
        build_services = [n for n in wanted if n not in given]
    else:
        build_services = []
    return preflight(loaded, target, environ=dict(os.environ), secrets_in_env_file=False, services=build_services)
