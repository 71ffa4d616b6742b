"""Read a compose project as `docker compose` would see it, for `shipit init`: the file, its override file,
`include:`d files (their relative paths rebased onto the project root) and `${VAR}` interpolation from the
project's .env (everywhere except `environment:`, whose values shipit classifies itself, never copies blindly).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipit.errors import UsageError

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class ComposeProject:
    files: list[str]
    services: dict[str, dict[str, Any]]
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    name: str | None = None  # the top-level name: of the compose project
    dotenv: dict[str, str] = field(default_factory=dict, repr=False)  # the project's .env (interpolation)
    notes: list[str] = field(default_factory=list)


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `$VAR` and `$$`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        op, arg = match.group(2), match.group(3) or ""
        current = variables.get(name)
        if op in (":-", ":?") and not current:
            return arg if op == ":-" else ""
        if op in ("-", "?") and current is None:
            return arg if op == "-" else ""
        if op in (":+", "+"):
            return arg if (current if op == ":+" else current is not None) else ""
        return current or ""

    return _VAR.sub(replace, value)


def _interpolate_services(data: dict[str, Any], variables: dict[str, str]) -> dict[str, Any]:
    """Everything but `environment:` and `build.args` values: init decides itself what of those may leave .env."""
    out = dict(data)
    services = {}
    for name, svc in (data.get("services") or {}).items():
        svc = dict(svc or {})
        if isinstance(svc.get("build"), dict):
            svc["build"] = dict(svc["build"])
        environment = svc.pop("environment", None)
        build = svc.get("build")
        args = build.pop("args", None) if isinstance(build, dict) else None
        svc = _interpolate_tree(svc, variables)
        if environment is not None:
            svc["environment"] = environment
        if args is not None:
            svc["build"]["args"] = args
        services[name] = svc
    out["services"] = services
    for key in ("include", "secrets"):
        if key in data:
            out[key] = _interpolate_tree(data[key], variables)
    return out


def _interpolate_tree(node: Any, variables: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, list):
        return [_interpolate_tree(item, variables) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, variables) for key, value in node.items()}
    return node


def _merge(base: Any, override: Any) -> Any:
    """Compose's override rules, simplified: mappings merge, port-like lists add up, scalars replace."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + [item for item in override if item not in base]
    return override


# The compose keys init reads, and the shapes the compose specification allows for them.
_SHAPES: tuple[tuple[str, type | tuple[type, ...], str], ...] = (
    ("build", (str, dict), "a path or a mapping"),
    ("environment", (dict, list), "a mapping or a list"),
    ("env_file", (str, list), "a path or a list"),
    ("ports", list, "a list"),
    ("expose", list, "a list"),
    ("volumes", list, "a list"),
    ("secrets", list, "a list"),
    ("profiles", list, "a list"),
    ("healthcheck", dict, "a mapping"),
    ("depends_on", (list, dict), "a list or a mapping"),
    ("command", (str, list), "a string or a list"),
    ("entrypoint", (str, list), "a string or a list"),
    ("image", str, "a string"),
)


def _load_yaml(path: Path, root: Path) -> dict[str, Any]:
    # Bounded like shipit.yaml: a regular file under the size limit, safe YAML with an alias budget and a
    # depth limit; a problem is a located error (exit 2), never a hang or a crash.
    from shipit.boundedread import COMPOSE_LIMIT
    from shipit.config.yamlmarks import load_yaml_file

    where = os.path.relpath(path, root)
    data, marks = load_yaml_file(path, where, COMPOSE_LIMIT, what="compose file")
    data = data or {}

    def wrong(at: tuple[str, ...], message: str) -> UsageError:
        # file:line of the offending value, as for shipit.yaml.
        location = marks.location(at) if at else None
        line = f":{location.line}" if location is not None and location.line else ":1"
        # Worded as before: "services must be a mapping", "services.api: must be a mapping".
        subject = at[0] + " " if len(at) == 1 else ".".join(at) + ": " if at else ""
        return UsageError(f"{where}{line}: {subject}{message}")

    if not isinstance(data, dict):
        raise wrong((), "the top level must be a mapping")
    if not isinstance(data.get("services") or {}, dict):
        raise wrong(("services",), "must be a mapping")
    for name, svc in (data.get("services") or {}).items():
        if not isinstance(svc or {}, dict):
            raise wrong(("services", str(name)), "must be a mapping")
        for key, shapes, what in _SHAPES:
            if key in (svc or {}) and svc[key] is not None and not isinstance(svc[key], shapes):
                raise wrong(("services", str(name), key), f"must be {what}")
    if not isinstance(data.get("secrets") or {}, dict):
        raise wrong(("secrets",), "must be a mapping")
    if not isinstance(data.get("include") or [], list):
        raise wrong(("include",), "must be a list")
    return data


def _rebase(path: str, offset: str) -> str:
    if offset in ("", ".") or os.path.isabs(path) or "://" in path:
        return path
    joined = os.path.normpath(os.path.join(offset, path))
    return joined if joined.startswith("..") or joined == "." else f"./{joined}"


def _rebase_service(svc: dict[str, Any], offset: str) -> dict[str, Any]:
    svc = dict(svc)
    build = svc.get("build")
    if isinstance(build, str):
        svc["build"] = _rebase(build, offset)
    elif isinstance(build, dict):
        svc["build"] = {**build, "context": _rebase(str(build.get("context", ".")), offset)}
    env_file = svc.get("env_file")
    if env_file is not None:
        items = env_file if isinstance(env_file, list) else [env_file]
        svc["env_file"] = [
            {**item, "path": _rebase(str(item.get("path", "")), offset)}
            if isinstance(item, dict)
            else _rebase(item, offset)
            for item in items
        ]
    return svc


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from shipit.envfile import read_env_file

    return dict(read_env_file(path, path.name).values)


def _files(root: Path, path: Path) -> list[Path]:
    stem, suffix = path.stem, path.suffix
    override = root / f"{stem}.override{suffix}"
    return [path, override] if override.is_file() else [path]


def load_compose(root: Path, path: Path) -> ComposeProject:
    dotenv = _read_dotenv(root / ".env")
    variables = {**dotenv, **{k: v for k, v in os.environ.items() if k in dotenv}}
    project = ComposeProject(files=[], services={}, dotenv=dotenv)
    _load_into(project, root, path, ".", variables, depth=0)
    name = _load_yaml(path, root).get("name")
    project.name = interpolate(str(name), variables) if name else None
    for extra in _files(root, path)[1:]:
        project.files.append(extra.name)
        data = _interpolate_services(_load_yaml(extra, root), variables)
        for name, svc in (data.get("services") or {}).items():
            project.services[name] = _merge(project.services.get(name, {}), svc or {})
        project.secrets.update(data.get("secrets") or {})
    _resolve_extends(project)
    return project


def _resolve_extends(project: ComposeProject) -> None:
    """`extends: {service: base}` within the project: the base's settings under the service's own."""

    def resolved(name: str, trail: tuple[str, ...]) -> dict[str, Any]:
        svc = project.services[name]
        ref = svc.get("extends")
        base = ref.get("service") if isinstance(ref, dict) else ref
        if not base:
            return svc
        if isinstance(ref, dict) and ref.get("file"):
            project.notes.append(f"{name}: extends a service of {ref['file']}, which init does not read")
            return {k: v for k, v in svc.items() if k != "extends"}
        if base not in project.services or base in trail:
            project.notes.append(f"{name}: extends '{base}', which is not a service here")
            return {k: v for k, v in svc.items() if k != "extends"}
        merged: dict[str, Any] = _merge(resolved(str(base), (*trail, name)), svc)
        merged.pop("extends", None)
        return merged

    project.services = {name: resolved(name, ()) for name in project.services}


def _load_into(
    project: ComposeProject, root: Path, path: Path, offset: str, variables: dict[str, str], depth: int
) -> None:
    if depth > 5:
        raise UsageError(f"{path}: compose include: nests more than 5 levels")
    project.files.append(os.path.relpath(path, root))
    data = _interpolate_services(_load_yaml(path, root), variables)
    for entry in data.get("include") or []:
        paths = entry.get("path") if isinstance(entry, dict) else entry
        for included in paths if isinstance(paths, list) else [paths]:
            target = (path.parent / str(included)).resolve()
            if not target.is_file():
                project.notes.append(f"include: {included} does not exist; its services are not mapped")
                continue
            sub_offset = os.path.relpath(target.parent, root)
            _load_into(project, root, target, sub_offset, variables, depth + 1)
    for name, svc in (data.get("services") or {}).items():
        project.services[name] = _rebase_service(svc or {}, offset)
    for name, secret in (data.get("secrets") or {}).items():
        secret = dict(secret) if isinstance(secret, dict) else {}
        if "file" in secret:
            secret["file"] = _rebase(str(secret["file"]), offset)
        project.secrets[name] = secret


def find_compose(root: Path) -> Path | None:
    for name in COMPOSE_FILES:
        if (root / name).is_file():
            return root / name
    return None


def dockerfile_stages(path: Path) -> list[str | None] | None:
    """The stages of a Dockerfile in order (their `AS name`, or None), or None if it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    stages: list[str | None] = []
    for line in text.splitlines():
        match = re.match(r"\s*FROM\s+(?:--\S+\s+)*\S+(?:\s+AS\s+(\S+))?\s*$", line, re.I)
        if match:
            stages.append(match.group(1).lower() if match.group(1) else None)
    return stages


# ------------------------------------------------------------------ the shapes of compose values


def command_text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value or "")


def to_argv(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        return shlex.split(str(value))
    except ValueError:
        return str(value).split()


def env_of(svc: dict[str, Any]) -> dict[str, str | None]:
    raw = svc.get("environment")
    if isinstance(raw, dict):
        return {
            str(k): None if v is None else (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in raw.items()
        }
    env: dict[str, str | None] = {}
    for item in raw or []:
        key, sep, value = str(item).partition("=")
        env[key] = value if sep else None
    return env


def ports(svc: dict[str, Any]) -> list[tuple[int | None, int]]:
    """(host port or None, container port) of every published port."""
    out: list[tuple[int | None, int]] = []
    for item in svc.get("ports") or []:
        if isinstance(item, dict):
            target, published = item.get("target"), item.get("published")
            if target is not None and str(target).isdigit():
                host = int(str(published)) if published is not None and str(published).isdigit() else None
                out.append((host, int(target)))
            continue
        text = str(item).split("/")[0]
        parts = text.rsplit(":", 2) if text.count(":") <= 2 else text.split(":")
        container = parts[-1].split("-")[0]
        host_text = parts[-2].split("-")[0] if len(parts) >= 2 else ""
        if container.isdigit():
            out.append((int(host_text) if host_text.isdigit() else None, int(container)))
    return out


def exposed_ports(svc: dict[str, Any]) -> list[int]:
    return [int(m.group(1)) for e in svc.get("expose") or [] if (m := re.match(r"(\d+)", str(e)))]


def health(svc: dict[str, Any]) -> tuple[str | None, int | None, str | None]:
    """(HTTP path, port, the command) of a healthcheck that curls or wgets a URL."""
    check = svc.get("healthcheck") or {}
    if not isinstance(check, dict) or check.get("disable"):
        return None, None, None
    test = command_text(check.get("test"))
    if not test:
        return None, None, None
    match = re.search(r"https?://[^/\s:'\"]+(?::(\d+))?(/[^\s'\"|;&]*)?", test)
    if match and re.search(r"\b(curl|wget|http)\b", test):
        return match.group(2) or "/", int(match.group(1)) if match.group(1) else None, test
    return None, None, test
