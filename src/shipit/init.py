"""`shipit init`: look at an existing repository and write a shipit.yaml that describes it.

Detection, in order of trust: an existing compose project (mapped by shipit.initmap, every decision a
Finding in the report init prints), then each directory's own manifest (package.json -> Node server or
static frontend, pyproject.toml or requirements.txt -> Python backend).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shipit.errors import one_line
from shipit.initmodel import (
    SECRET_WORDS,
    DetectedDatabase,
    DetectedService,
    Detection,
    Finding,
    deploy_port,
    detect_kind,
    service_name,
)

__all__ = [
    "SECRET_WORDS",
    "DetectedDatabase",
    "DetectedService",
    "Detection",
    "Finding",
    "deploy_port",
    "detect_kind",
    "service_name",
]
_SKIP_DIRS = {"node_modules", ".git", ".venv", "venv", "dist", "build", ".shipit", "infra", "__pycache__"}


def detect(root: Path) -> Detection:
    from shipit.initcompose import find_compose

    compose = find_compose(root)
    if compose is not None:
        from shipit.initmap import map_compose

        return map_compose(root, compose)
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


@dataclass(frozen=True)
class InitAnswers:
    app: str
    project: str
    region: str = "us-central1"
    environment: str = "staging"


class _NoAliases(yaml.SafeDumper):
    """The same list in cloud_run.args and local.command is written twice, not as a YAML alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _service_entry(svc: DetectedService) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if svc.worker:
        entry["kind"] = "worker"
    if svc.image:
        entry["image"] = svc.image
        entry["build"] = None
    else:
        build: dict[str, Any] = {"context": svc.context}
        if svc.dockerfile:
            build["dockerfile"] = svc.dockerfile
        if svc.target:
            build["target"] = svc.target
        if svc.args:
            build["args"] = svc.args
        if svc.build_secrets:
            build["secrets"] = svc.build_secrets
        entry["build"] = build
    if not svc.worker:
        entry["port"] = deploy_port(svc)
    for key, value in (("env", svc.env), ("secrets", svc.secrets), ("secret_files", svc.secret_files)):
        if value:
            entry[key] = value
    if svc.databases:
        entry["databases"] = svc.databases
    if svc.caches:
        entry["caches"] = svc.caches
    if svc.health_path and not svc.worker:
        entry["health"] = {"path": svc.health_path}
    cloud_run: dict[str, Any] = {}
    if svc.public:
        cloud_run["allow_unauthenticated"] = True
    if svc.cloud_command:
        cloud_run["command"] = svc.cloud_command
    if svc.cloud_args:
        cloud_run["args"] = svc.cloud_args
    if cloud_run:
        entry["cloud_run"] = cloud_run
    local: dict[str, Any] = {}
    if svc.local_target:
        local["target"] = svc.local_target
    if svc.local_command:
        local["command"] = svc.local_command
    if svc.local_env:
        local["env"] = svc.local_env
    if svc.local_ports and deploy_port(svc) == svc.port:
        local["ports"] = svc.local_ports
    if svc.local_volumes:
        local["volumes"] = svc.local_volumes
    if local:
        entry["local"] = local
    return entry


def render_config(detection: Detection, answers: InitAnswers) -> str:
    document: dict[str, Any] = {
        "version": 1,
        "app": answers.app,
        "environments": {answers.environment: {"project": answers.project, "region": answers.region}},
    }
    if detection.databases:
        databases: dict[str, Any] = {}
        for key, db in detection.databases.items():
            entry: dict[str, Any] = {"engine": db.engine, "version": db.version}
            if db.name:
                entry["name"] = db.name
            if db.user:
                entry["user"] = db.user
            if db.env_var != "DATABASE_URL":
                entry["env_var"] = db.env_var
            databases[key] = entry
        document["databases"] = databases
    if detection.caches:
        document["caches"] = {
            key: {"engine": "redis", "tier": "BASIC", "memory_gb": 1}
            | ({"env_var": cache.env_var} if cache.env_var != "REDIS_URL" else {})
            for key, cache in detection.caches.items()
        }
    document["services"] = {svc.name: _service_entry(svc) for svc in detection.services}
    if detection.pubsub:
        pubsub: dict[str, Any] = {"topics": {topic: {} for topic in detection.topics}}
        if detection.subscriptions:
            pubsub["subscriptions"] = {sub: {"topic": topic} for sub, topic in detection.subscriptions.items()}
        document["pubsub"] = pubsub
    header = (
        "# yaml-language-server: $schema=https://shipit.dev/schema/shipit.schema.json\n"
        f"# Written by `shipit init` from {one_line(str(detection.source))}. Check it with `shipit validate`,\n"
        "# then `shipit local up` to run it here and `shipit deploy` to ship it.\n"
    )
    return header + yaml.dump(document, Dumper=_NoAliases, sort_keys=False, default_flow_style=False)


def render_env_example(detection: Detection) -> str:
    keys = sorted({k for s in detection.services for k in (*s.secrets, *s.secret_files.values(), *s.build_secrets)})
    lines = ["# Copy to .env and fill in. Never commit .env: `shipit secrets sync` puts it in Secret Manager."]
    lines += [f"{k}=" for k in keys]
    return "\n".join(lines) + "\n"


def answer_findings(answers: InitAnswers, *, given: set[str], from_compose: bool = False) -> list[Finding]:
    """Rows for the answers init made up itself (``given`` names those the user passed or typed)."""
    rows = []
    if "app" not in given:
        where = "the compose project's name" if from_compose else "the directory's name"
        rows.append(Finding("guessed", "app", f"{answers.app} ({where}): pass --app to choose"))
    if "project" not in given:
        rows.append(
            Finding(
                "guessed",
                f"environments.{answers.environment}.project",
                f"{answers.project} (made up from the app name): pass --project with your Google Cloud project id",
            )
        )
    if "environment" not in given:
        rows.append(
            Finding(
                "guessed", f"environments.{answers.environment}", "the first environment's name: pass --env to choose"
            )
        )
    if "region" not in given:
        rows.append(Finding("guessed", f"environments.{answers.environment}.region", f"{answers.region} (the default)"))
    return rows


_ORDER = {"mapped": 0, "guessed": 1, "dropped": 2, "decide": 3}


def report_rows(findings: list[Finding]) -> list[tuple[str, str, str]]:
    """The report table, mapped first and what the user must decide last."""
    ordered = sorted(enumerate(findings), key=lambda item: (_ORDER.get(item[1].status, 9), item[0]))
    return [(f.status, f.subject, f.detail) for _, f in ordered]
