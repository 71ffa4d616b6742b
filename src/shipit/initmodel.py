"""What `shipit init` found in a project: the detection it maps into shipit.yaml, and its report rows.

Plain data and the small sniffers the detectors (``init``, ``initmap``, ``initvars``) share, so none of
them imports another for these.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

_STATIC_DEPS = {"react", "vue", "svelte", "vite", "@angular/core", "preact", "solid-js", "astro"}
_NODE_SERVER_DEPS = {"express", "fastify", "koa", "@nestjs/core", "hapi", "next", "nuxt", "@remix-run/serve"}
SECRET_WORDS = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|_KEY$|PRIVATE|CREDENTIALS)", re.I)


@dataclass(frozen=True)
class Finding:
    """One row of init's report: how one thing in the source project was handled, and why."""

    status: str  # mapped | guessed | dropped | decide
    subject: str
    detail: str


@dataclass
class DetectedDatabase:
    key: str
    version: str = "16"
    name: str | None = None
    user: str | None = None
    env_var: str = "DATABASE_URL"
    engine: str = "postgres"


@dataclass
class DetectedCache:
    key: str
    env_var: str = "REDIS_URL"
    ca_env_var: str = "REDIS_CA_CERT"


@dataclass
class DetectedService:
    name: str
    context: str
    kind: str  # python, node, static, docker (has its own Dockerfile), image (prebuilt)
    port: int = 8080
    dockerfile: str | None = None
    target: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    caches: list[str] = field(default_factory=list)
    public: bool = False
    image: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    build_secrets: list[str] = field(default_factory=list)
    worker: bool = False
    health_path: str | None = None  # None: shipit's default
    secret_files: dict[str, str] = field(default_factory=dict)
    cloud_command: list[str] | None = None
    cloud_args: list[str] | None = None
    local_target: str | None = None
    local_command: list[str] | None = None
    local_env: dict[str, str] = field(default_factory=dict)
    local_volumes: list[str] = field(default_factory=list)
    local_ports: list[str] = field(default_factory=list)


@dataclass
class Detection:
    services: list[DetectedService] = field(default_factory=list)
    databases: dict[str, DetectedDatabase] = field(default_factory=dict)
    caches: dict[str, DetectedCache] = field(default_factory=dict)
    pubsub: bool = False
    topics: list[str] = field(default_factory=list)
    subscriptions: dict[str, str] = field(default_factory=dict)  # subscription -> topic
    findings: list[Finding] = field(default_factory=list)
    source: str = ""
    app_name: str | None = None  # compose's top-level name:

    def note(self, status: str, subject: str, detail: str) -> None:
        self.findings.append(Finding(status, subject, detail))


def service_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = "svc-" + name
    return name[:49].rstrip("-")


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


def deploy_port(svc: DetectedService) -> int:
    """Generated images listen on PORT (8080 on Cloud Run); dev-server ports like 3000 or 80 don't carry over."""
    if svc.kind == "static":
        return 8080
    return 8080 if svc.kind in ("python", "node") and svc.port in (80, 3000, 4173, 5173) else svc.port
