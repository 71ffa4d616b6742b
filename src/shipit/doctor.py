"""`shipit doctor`: is this machine and this project ready for shipit? Each problem comes with its fix."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from shipit.config import Target
from shipit.errors import ShipitError

MIN_TERRAFORM = (1, 11)

# Permission -> the predefined role that grants it, for fixes.
PERMISSIONS: dict[str, str] = {
    "run.services.create": "roles/run.admin",
    "run.services.update": "roles/run.admin",
    "run.services.setIamPolicy": "roles/run.admin",
    "run.jobs.create": "roles/run.admin",
    "iam.serviceAccounts.actAs": "roles/iam.serviceAccountUser",
    "secretmanager.secrets.create": "roles/secretmanager.admin",
    "secretmanager.versions.add": "roles/secretmanager.admin",
    "secretmanager.versions.access": "roles/secretmanager.secretAccessor",
    "artifactregistry.repositories.create": "roles/artifactregistry.admin",
    "artifactregistry.repositories.uploadArtifacts": "roles/artifactregistry.writer",
}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, warn, fail
    detail: str
    fix: str = ""


def required_apis(target: Target) -> list[str]:
    config = target.config
    apis = {"run", "secretmanager", "artifactregistry", "iam", "compute"}
    if config.databases:
        apis |= {"sqladmin", "servicenetworking", "vpcaccess"}
    if config.pubsub:
        apis.add("pubsub")
    return sorted(f"{a}.googleapis.com" for a in apis)


def _tool_version(argv: list[str]) -> str:
    from shipit.adapters.process import run

    return run(argv, timeout=20).stdout.strip()


def check_docker() -> list[Check]:
    checks: list[Check] = []
    try:
        version = _tool_version(["docker", "version", "--format", "{{.Server.Version}}"])
        checks.append(Check("docker engine", "ok", f"server {version}"))
    except ShipitError as exc:
        first = exc.message.splitlines()[-1] if exc.message else ""
        checks.append(
            Check(
                "docker engine",
                "fail",
                first[:200] or "not reachable",
                "start Docker (or set DOCKER_HOST to a running engine)",
            )
        )
    try:
        checks.append(Check("buildx", "ok", _tool_version(["docker", "buildx", "version"])))
    except ShipitError:
        checks.append(
            Check(
                "buildx",
                "warn",
                "not installed: the classic builder is used (no registry cache)",
                "install the docker-buildx plugin",
            )
        )
    for argv in (["docker", "compose", "version", "--short"], ["docker-compose", "version", "--short"]):
        try:
            checks.append(Check("compose", "ok", f"{' '.join(argv[:-2])} {_tool_version(argv)}"))
            break
        except ShipitError:
            continue
    else:
        checks.append(
            Check(
                "compose",
                "warn",
                "neither `docker compose` nor docker-compose found",
                "install the compose plugin, or use `shipit local --runtime native`",
            )
        )
    return checks


def check_terraform() -> Check:
    try:
        data = json.loads(_tool_version(["terraform", "version", "-json"]))
    except ShipitError:
        return Check("terraform", "fail", "not found on PATH", "install Terraform >= 1.11")
    version = str(data.get("terraform_version", "0"))
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[:2])
    if parts < MIN_TERRAFORM:
        return Check("terraform", "fail", f"{version} is too old", "install Terraform >= 1.11")
    return Check("terraform", "ok", version)


def check_cloud(target: Target) -> list[Check]:
    from shipit.adapters.gcp import auth, project

    checks: list[Check] = []
    try:
        auth.access_token()
        checks.append(Check("credentials", "ok", "access token obtained"))
    except ShipitError as exc:
        return [Check("credentials", "fail", exc.message, exc.hint or "")]
    try:
        enabled = project.enabled_services(target.project)
    except ShipitError as exc:
        return [*checks, Check("project", "fail", exc.message, exc.hint or "check the project id in shipit.yaml")]
    checks.append(Check("project", "ok", target.project))
    missing = [api for api in required_apis(target) if api not in enabled]
    if missing:
        checks.append(
            Check(
                "apis",
                "fail",
                "not enabled: " + ", ".join(missing),
                f"`shipit infra apply`, or gcloud services enable {' '.join(missing)}",
            )
        )
    else:
        checks.append(Check("apis", "ok", f"{len(required_apis(target))} required APIs enabled"))
    try:
        lacking = project.missing_permissions(target.project, PERMISSIONS)
    except ShipitError as exc:
        checks.append(Check("permissions", "warn", exc.message, exc.hint or ""))
        return checks
    if lacking:
        roles = sorted({PERMISSIONS[p] for p in lacking})
        checks.append(Check("permissions", "fail", "missing: " + ", ".join(lacking), "grant " + ", ".join(roles)))
    else:
        checks.append(Check("permissions", "ok", f"all {len(PERMISSIONS)} deploy permissions granted"))
    return checks


def run_checks(target: Target, *, offline: bool, extra: Callable[[], list[Check]] | None = None) -> list[Check]:
    checks = [Check("config", "ok", f"{target.config_file}: environment {target.env_name}")]
    checks.extend(check_docker())
    checks.append(check_terraform())
    if not offline:
        checks.extend(check_cloud(target))
    if extra:
        checks.extend(extra())
    return checks
