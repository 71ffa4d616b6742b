"""`shipit init`: look at an existing repository and write a shipit.yaml that describes it.

Detection, in order of trust: an existing docker-compose file (services, ports, env, Postgres), then
each directory's own manifest (package.json -> Node server or static frontend, pyproject.toml or
requirements.txt -> Python backend).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
_SECRET_WORDS = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|_KEY$|PRIVATE|CREDENTIALS)", re.I)
_STATIC_DEPS = {"react", "vue", "svelte", "vite", "@angular/core", "preact", "solid-js", "astro"}
_NODE_SERVER_DEPS = {"express", "fastify", "koa", "@nestjs/core", "hapi", "next", "nuxt", "@remix-run/serve"}
_SKIP_DIRS = {"node_modules", ".git", ".venv", "venv", "dist", "build", ".shipit", "infra", "__pycache__"}


@dataclass
class DetectedService:
    name: str
    context: str
    kind: str  # python, node, static, docker (has its own Dockerfile)
    port: int = 8080
    dockerfile: str | None = None
    target: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    public: bool = False
    command: str | None = None


@dataclass
class Detection:
    services: list[DetectedService] = field(default_factory=list)
    postgres_version: str | None = None
    source: str = ""


def service_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = "svc-" + name
    return name[:49].rstrip("-")


def _compose_env(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): "" if v is None else str(v) for k, v in raw.items()}
    env: dict[str, str] = {}
    for item in raw or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    return env


def _container_port(ports: Any) -> int | None:
    for item in ports or []:
        text = str(item.get("target", "")) if isinstance(item, dict) else str(item)
        match = re.search(r"(\d+)(?:/\w+)?$", text)
        if match:
            return int(match.group(1))
    return None


def detect_kind(directory: Path) -> str | None:
    if (directory / "Dockerfile").is_file():
        return "docker"
    package = directory / "package.json"
    if package.is_file():
        try:
            data = json.loads(package.read_text())
        except (OSError, json.JSONDecodeError):
            return "node"
        deps = {**data.get("dependencies", {}), **data.get("devDependencies", {})}
        scripts = data.get("scripts", {})
        if "build" in scripts and deps.keys() & _STATIC_DEPS and not deps.keys() & _NODE_SERVER_DEPS:
            return "static"
        return "node"
    if (directory / "pyproject.toml").is_file() or (directory / "requirements.txt").is_file():
        return "python"
    return None


def _read_compose(path: Path) -> dict[str, Any]:
    """The compose file as data: bounded (regular file, size limit), safe YAML, services checked to be mappings."""
    from shipit.boundedread import COMPOSE_LIMIT
    from shipit.config.yamlmarks import load_yaml_file
    from shipit.errors import ConfigError, ConfigIssue, Location

    data, marks = load_yaml_file(path, path.name, COMPOSE_LIMIT, what="compose file")
    data = data or {}
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(Location(path.name, 1, 1), "", "the top level must be a mapping")])
    if not isinstance(services or {}, dict):
        raise ConfigError([ConfigIssue(marks.location(("services",)), "services", "must be a mapping")])
    for name, svc in (services or {}).items():
        if not isinstance(svc, dict):
            issue = ConfigIssue(marks.location(("services", name)), f"services.{name}", "must be a mapping")
            raise ConfigError([issue])
    return data


def _from_compose(root: Path, path: Path) -> Detection:
    data = _read_compose(path)
    detection = Detection(source=path.name)
    postgres_names: set[str] = set()
    for name, svc in (data.get("services") or {}).items():
        image = str(svc.get("image", ""))
        if image.startswith("postgres") and "build" not in svc:
            postgres_names.add(name)
            tag = image.partition(":")[2]
            detection.postgres_version = tag.split(".")[0].split("-")[0] if tag[:2].isdigit() else "16"
    for name, svc in (data.get("services") or {}).items():
        if name in postgres_names or "build" not in svc:
            continue
        build = svc["build"]
        build = {"context": build} if isinstance(build, str) else dict(build)
        context = str(build.get("context", "."))
        env = _compose_env(svc.get("environment"))
        uses_db = bool(postgres_names & set(svc.get("depends_on") or [])) or "DATABASE_URL" in env
        env.pop("DATABASE_URL", None)
        secrets = sorted(k for k in env if _SECRET_WORDS.search(k))
        plain = {k: v for k, v in env.items() if k not in secrets and "${" not in v}
        kind = detect_kind(root / context) or "docker"
        port = _container_port(svc.get("ports")) or (80 if kind == "static" else 8080)
        detection.services.append(
            DetectedService(
                name=service_name(name),
                context=context,
                kind=kind,
                port=port,
                dockerfile=build.get("dockerfile"),
                target=build.get("target"),
                env=plain,
                secrets=secrets,
                databases=["main"] if uses_db and postgres_names else [],
                public=kind == "static" or port in (80, 3000),
            )
        )
    return detection


def detect(root: Path) -> Detection:
    for name in COMPOSE_FILES:
        if (root / name).is_file():
            return _from_compose(root, root / name)
    detection = Detection(source="project files")
    candidates = [root, *sorted(p for p in root.iterdir() if p.is_dir() and p.name not in _SKIP_DIRS)]
    for directory in candidates:
        kind = detect_kind(directory)
        if kind is None:
            continue
        name = service_name(root.name if directory == root else directory.name)
        context = "." if directory == root else f"./{directory.name}"
        detection.services.append(DetectedService(name=name, context=context, kind=kind, public=kind == "static"))
        if directory == root:
            break
    return detection


def deploy_port(svc: DetectedService) -> int:
    """Generated images listen on PORT (8080 on Cloud Run); dev-server ports like 3000 or 80 don't carry over."""
    return 8080 if svc.kind in ("python", "node", "static") and svc.port in (80, 3000) else svc.port


@dataclass(frozen=True)
class InitAnswers:
    app: str
    project: str
    region: str = "us-central1"
    environment: str = "staging"


def render_config(detection: Detection, answers: InitAnswers) -> str:
    services: dict[str, Any] = {}
    for svc in detection.services:
        entry: dict[str, Any] = {"build": {"context": svc.context}}
        if svc.dockerfile:
            entry["build"]["dockerfile"] = svc.dockerfile
        if svc.target:
            entry["build"]["target"] = svc.target
        entry["port"] = deploy_port(svc)
        if svc.env:
            entry["env"] = svc.env
        if svc.secrets:
            entry["secrets"] = svc.secrets
        if svc.databases:
            entry["databases"] = svc.databases
        if svc.public:
            entry["cloud_run"] = {"allow_unauthenticated": True}
        services[svc.name] = entry
    document: dict[str, Any] = {
        "version": 1,
        "app": answers.app,
        "environments": {answers.environment: {"project": answers.project, "region": answers.region}},
    }
    if any(s.databases for s in detection.services):
        document["databases"] = {"main": {"engine": "postgres", "version": detection.postgres_version or "16"}}
    document["services"] = services
    header = (
        "# yaml-language-server: $schema=https://shipit.dev/schema/shipit.schema.json\n"
        f"# Written by `shipit init` from {detection.source}. Check it with `shipit validate`,\n"
        "# then `shipit local up` to run it here and `shipit deploy` to ship it.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def render_env_example(detection: Detection) -> str:
    keys = sorted({k for s in detection.services for k in s.secrets})
    lines = ["# Copy to .env and fill in. Never commit .env: `shipit secrets sync` puts it in Secret Manager."]
    lines += [f"{k}=" for k in keys]
    return "\n".join(lines) + "\n"
