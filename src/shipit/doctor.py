"""`shipit doctor`: is this machine and this project ready for shipit? Each problem comes with its fix.

The tools are found by the same code the commands use (the adapters), so SHIPIT_TERRAFORM, SHIPIT_COMPOSE
and SHIPIT_BUILDER mean here what they mean to `shipit infra`, `shipit local` and `shipit build`.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipit.config import Target
from shipit.errors import ShipitError

if TYPE_CHECKING:
    from shipit.adapters.docker import Docker

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
    if config.caches:
        apis |= {"redis", "servicenetworking", "vpcaccess"}
    if config.pubsub:
        apis.add("pubsub")
    return sorted(f"{a}.googleapis.com" for a in apis)


def _tool_version(argv: list[str]) -> str:
    from shipit.adapters.process import run

    return run(argv, timeout=20).stdout.strip()


def check_docker(engine: Docker | None = None) -> list[Check]:
    from shipit.adapters.docker import Docker

    engine = engine or Docker()
    checks: list[Check] = []
    try:
        version = _tool_version([engine.cli, "version", "--format", "{{.Server.Version}}"])
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
    checks.append(check_builder(engine))
    checks.append(check_compose())
    return checks


def check_builder(engine: Docker) -> Check:
    """The builder `shipit build` will use (SHIPIT_BUILDER=classic|buildx forces one)."""
    from shipit.adapters.docker import BUILDER_ENV

    try:
        builder = engine.builder
        version = engine.buildx_version() if builder.buildx else None
    except ShipitError as exc:
        return Check("buildx", "warn", exc.message, exc.hint or "")
    if builder.buildx and version is not None:
        return Check("buildx", "ok", version + (f" ({BUILDER_ENV}=buildx)" if builder.forced else ""))
    if builder.buildx:
        return Check("buildx", "fail", f"{BUILDER_ENV}=buildx, but buildx is not installed", "install docker-buildx")
    if builder.forced:
        return Check("buildx", "ok", f"{BUILDER_ENV}: the classic builder is used")
    return Check(
        "buildx",
        "warn",
        "not installed: the classic builder is used (no registry cache)",
        "install the docker-buildx plugin",
    )


def check_compose() -> Check:
    """The compose `shipit local` will use (SHIPIT_COMPOSE=v1|v2 forces one)."""
    from shipit.adapters.compose import detect_tool

    try:
        tool = detect_tool()
        version = _tool_version([*tool.argv, "version", "--short"])
    except ShipitError:
        return Check(
            "compose",
            "warn",
            "neither `docker compose` nor docker-compose found",
            "install the compose plugin, or use `shipit local --runtime native`",
        )
    return Check("compose", "ok", f"{' '.join(tool.argv)} {version}")


def check_terraform() -> Check:
    """The Terraform `shipit infra` will run ($SHIPIT_TERRAFORM, else `terraform` on PATH), version checked."""
    from shipit.adapters.terraform import Terraform

    try:
        return Check("terraform", "ok", Terraform(Path.cwd()).version())
    except ShipitError as exc:
        return Check("terraform", "fail", exc.message, exc.hint or "install Terraform >= 1.11")


CREDENTIAL_TYPES = frozenset(
    {
        "service_account",
        "authorized_user",
        "external_account",
        "external_account_authorized_user",
        "impersonated_service_account",
        "gdch_service_account",
    }
)
_CREDENTIALS_MAX = 1 << 20  # a credentials file is a few KiB; anything bigger is the wrong file
_LOGIN = "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a key file"


def _credential_file_problem(path: Path) -> tuple[str | None, str]:
    """(what is wrong with a credentials file, or None; its type). Never shows the file's content."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return "no such file", ""
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})", ""
    if stat.S_ISDIR(info.st_mode):
        return "a directory, not a file", ""
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file", ""
    if info.st_size > _CREDENTIALS_MAX:
        return "larger than 1 MiB: not a credentials file", ""
    try:
        text = path.read_text(encoding="utf-8")
    except PermissionError:
        return "not readable (permission denied)", ""
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot be read ({type(exc).__name__})", ""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON (line {exc.lineno})", ""
    if not isinstance(data, dict):
        return "not a JSON object", ""
    kind = data.get("type")
    if not isinstance(kind, str):
        return 'no "type" key: not a Google credentials file', ""
    if kind not in CREDENTIAL_TYPES:
        return f"unsupported credentials type {kind[:40]!r}", kind
    needed = {"service_account": ("client_email", "private_key"), "authorized_user": ("client_id", "refresh_token")}
    missing = [key for key in needed.get(kind, ()) if not data.get(key)]
    if missing:
        return f"{kind} file without {', '.join(missing)}", kind
    return None, kind


def check_credentials() -> Check:
    """Where Google credentials come from, and what is wrong with the file if one is used (no network)."""
    if os.environ.get("CLOUDSDK_AUTH_ACCESS_TOKEN"):
        return Check("credentials", "ok", "an access token in CLOUDSDK_AUTH_ACCESS_TOKEN")
    explicit = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if explicit:
        path, source = Path(explicit), "GOOGLE_APPLICATION_CREDENTIALS"
    else:
        config = os.environ.get("CLOUDSDK_CONFIG") or str(Path.home() / ".config" / "gcloud")
        path, source = Path(config) / "application_default_credentials.json", "gcloud application-default login"
        if not path.exists():
            return Check(
                "credentials",
                "warn",
                f"no credentials file ({path} does not exist): only a metadata server (Cloud Build, GCE) can give them",
                _LOGIN + ", or CLOUDSDK_AUTH_ACCESS_TOKEN",
            )
    problem, kind = _credential_file_problem(path)
    if problem:
        return Check("credentials", "fail", f"{path} ({source}): {problem}", _LOGIN)
    return Check("credentials", "ok", f"{path} ({source}): {kind}")


def check_cloud(target: Target) -> list[Check]:
    from shipit.adapters.gcp import auth, project

    checks: list[Check] = []
    try:
        auth.access_token()
        checks.append(Check("access token", "ok", "obtained"))
    except ShipitError as exc:
        return [Check("access token", "fail", exc.message, exc.hint or "")]
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


def run_checks(
    target: Target | None, *, offline: bool, extra: Callable[[], list[Check]] | None = None, where: str = ""
) -> list[Check]:
    """Machine checks always; project checks (APIs, permissions) only with a target (a shipit.yaml)."""
    if target is None:
        checks = [Check("config", "warn", f"no shipit.yaml in {where or '.'} or above: machine checks only")]
    else:
        checks = [Check("config", "ok", f"{target.config_file}: environment {target.env_name}")]
    checks.extend(check_docker())
    checks.append(check_terraform())
    credentials = check_credentials()
    checks.append(credentials)
    if not offline and target is not None and credentials.status != "fail":
        checks.extend(check_cloud(target))
    if extra:
        checks.extend(extra())
    return checks
