"""The single rules behind `shipit init`'s compose mapping, each on a minimal compose project."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cli_runner import invoke
from shipit.init import Detection
from shipit.initcompose import dockerfile_stages, health, interpolate, load_compose, ports
from shipit.initmap import map_compose
from shipit.initroles import mysql_version, postgres_version, service_role


def _project(tmp_path: Path, compose: str, files: dict[str, str] | None = None) -> Detection:
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    path = tmp_path / "docker-compose.yml"
    path.write_text(textwrap.dedent(compose))
    return map_compose(tmp_path, path)


def _rows(detection: Detection, status: str) -> dict[str, str]:
    return {f.subject: f.detail for f in detection.findings if f.status == status}


@pytest.mark.parametrize(
    ("image", "version", "noted"),
    [
        ("postgres:12", "13", True),
        ("postgres:16-alpine", "16", False),
        ("postgis/postgis:15-3.4", "15", False),
        ("postgres:18beta1", "17", True),
        ("postgres", "16", True),
        ("timescale/timescaledb:latest-pg14", "14", False),
    ],
)
def test_postgres_versions(image: str, version: str, noted: bool) -> None:
    got, note = postgres_version(image)
    assert (got, note is not None) == (version, noted)


@pytest.mark.parametrize(
    ("image", "version", "noted"),
    [
        ("mysql:8.0", "8.0", False),
        ("mysql:8.0.36-debian", "8.0", False),
        ("mysql:8.4", "8.4", False),
        ("mysql:8", "8.4", False),
        ("mysql:5.7", "8.0", True),
        ("mysql:9.1", "8.4", True),
        ("mysql", "8.4", True),
        ("bitnami/mysql:8.0", "8.0", False),
        ("mariadb:11", "8.4", True),
        ("percona:8.0", "8.0", False),
    ],
)
def test_mysql_versions(image: str, version: str, noted: bool) -> None:
    got, note = mysql_version(image)
    assert (got, note is not None) == (version, noted)


@pytest.mark.parametrize(
    ("image", "what"),
    [
        ("mysql:8", "mysql"),
        ("mariadb:11.4", "mysql"),
        ("mysql/mysql-server:8.0", "mysql"),
        ("phpmyadmin/phpmyadmin", "tool"),
        ("redis:7", "redis"),
        ("mongo:7", "engine"),
    ],
)
def test_database_and_cache_images_get_their_roles(image: str, what: str) -> None:
    assert service_role("x", {"image": image}, set()).what == what


def test_ports_short_long_and_loopback_forms() -> None:
    svc = {"ports": ["8000", "3000:3000", "127.0.0.1:8080:80", "9000-9001:9000-9001", "53:53/udp", {"target": 5000}]}
    assert ports(svc) == [(None, 8000), (3000, 3000), (8080, 80), (9000, 9000), (53, 53), (None, 5000)]


def test_healthcheck_paths() -> None:
    assert health({"healthcheck": {"test": ["CMD", "curl", "-f", "http://localhost:8000/healthz"]}})[:2] == (
        "/healthz",
        8000,
    )
    assert health({"healthcheck": {"test": "wget -qO- http://127.0.0.1/ready || exit 1"}})[:2] == ("/ready", None)
    assert health({"healthcheck": {"test": ["CMD", "pg_isready"]}})[0] is None
    assert health({"healthcheck": {"test": ["CMD", "curl", "-f", "http://x/"], "disable": True}}) == (None, None, None)


def test_interpolation_like_compose() -> None:
    env = {"TAG": "1.2", "EMPTY": ""}
    assert interpolate("app:${TAG}", env) == "app:1.2"
    assert interpolate("${MISSING:-16}|${EMPTY:-x}|${EMPTY-y}|$TAG|$$HOME", env) == "16|x||1.2|$HOME"


def test_dockerfile_stages(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM node:20 AS deps\nfrom deps as Build\nFROM --platform=$BUILDPLATFORM nginx\n")
    assert dockerfile_stages(path) == ["deps", "build", None]
    assert dockerfile_stages(tmp_path / "missing") is None


def test_a_development_target_without_a_production_stage_is_a_decision(tmp_path: Path) -> None:
    detection = _project(
        tmp_path,
        """
        services:
          api: {build: {context: ., target: dev}, ports: ["8000:8000"]}
        """,
        {"Dockerfile": "FROM python:3.12 AS base\nFROM base AS dev\n"},
    )
    assert detection.services[0].target == "dev"
    assert "no later production stage" in _rows(detection, "decide")["services.api.build.target"]


def test_a_kept_target_must_be_a_stage(tmp_path: Path) -> None:
    detection = _project(
        tmp_path,
        """
        services:
          api: {build: {context: ., target: prodution}, ports: ["8000:8000"]}
        """,
        {"Dockerfile": "FROM python:3.12 AS production\n"},
    )
    assert "not a stage of Dockerfile" in _rows(detection, "decide")["services.api.build.target"]


def test_url_cycles_are_not_guessed(tmp_path: Path) -> None:
    """A frontend calling the API and the API allowing the frontend's origin: Cloud Run can't order that."""
    detection = _project(
        tmp_path,
        """
        services:
          web:
            image: ghcr.io/acme/web:1
            ports: ["3000:8080"]
            environment: {API_URL: "http://localhost:8000"}
          api:
            image: ghcr.io/acme/api:1
            ports: ["8000:8000"]
            environment: {CORS_ORIGIN: "http://localhost:3000"}
        """,
    )
    web, api = detection.services
    assert web.env == {"API_URL": "${services.api.url}"}
    assert api.env == {} and api.local_env == {"CORS_ORIGIN": "http://localhost:3000"}
    assert "services.api.env.CORS_ORIGIN" in _rows(detection, "decide")


def test_a_secret_read_under_another_name_must_be_renamed(tmp_path: Path) -> None:
    detection = _project(
        tmp_path,
        """
        services:
          api:
            image: ghcr.io/acme/api:1
            environment: {STRIPE_KEY: "${STRIPE_SECRET}", PLAIN: "${LEVEL:-info}"}
        """,
        {".env": "STRIPE_SECRET=sk_test_1\n"},
    )
    api = detection.services[0]
    assert api.secrets == ["STRIPE_KEY"] and api.env == {"PLAIN": "info"}
    assert (
        "add STRIPE_KEY to .env (compose read STRIPE_SECRET)"
        in _rows(detection, "decide")["services.api.secrets.STRIPE_KEY"]
    )


def test_include_rebases_paths_and_override_files_merge(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "compose.yaml").write_text("services:\n  api: {build: ., env_file: api.env}\n")
    (tmp_path / "compose.yaml").write_text(
        "include: [svc/compose.yaml, missing.yaml]\nservices:\n  web: {image: web}\n"
    )
    (tmp_path / "compose.override.yaml").write_text("services:\n  web: {ports: ['80:80']}\n")
    project = load_compose(tmp_path, tmp_path / "compose.yaml")
    assert project.services["api"] == {"build": "./svc", "env_file": ["./svc/api.env"]}
    assert project.services["web"] == {"image": "web", "ports": ["80:80"]}
    assert project.files == ["compose.yaml", "svc/compose.yaml", "compose.override.yaml"]
    assert project.notes == ["include: missing.yaml does not exist; its services are not mapped"]


def _init_fails(tmp_path: Path, text: str) -> str:
    """init on a compose.yaml it cannot read: exit 2, one line naming the file, nothing written."""
    (tmp_path / "compose.yaml").write_text(text)
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not (tmp_path / "shipit.yaml").exists()
    return result.output


def test_invalid_compose_yaml_is_a_usage_error(tmp_path: Path) -> None:
    output = _init_fails(tmp_path, "services:\n  api: [\n")
    assert "compose.yaml:3" in output and "YAML" in output


def test_values_built_from_dotenv_stay_in_dotenv(tmp_path: Path) -> None:
    detection = _project(
        tmp_path,
        """
        services:
          api:
            image: ghcr.io/acme/api:${TAG:-1}
            environment: {PUBLIC_URL: "https://${DOMAIN}/app", MODE: "${MODE:-prod}"}
        """,
        {".env": "DOMAIN=internal.example.org\n"},
    )
    api = detection.services[0]
    assert api.image == "ghcr.io/acme/api:1"
    assert api.secrets == ["PUBLIC_URL"] and api.env == {"MODE": "prod"}
    assert "add PUBLIC_URL (its full value) to .env" in _rows(detection, "decide")["services.api.secrets.PUBLIC_URL"]


def test_build_args_never_carry_secrets_or_dotenv_values(tmp_path: Path) -> None:
    detection = _project(
        tmp_path,
        """
        services:
          web:
            build:
              context: .
              args: {NPM_TOKEN: npm_literal_token, SENTRY_RELEASE: "${RELEASE}", NODE_VERSION: "${NODE_VERSION:-20}"}
            ports: ["3000:3000"]
        """,
        {"Dockerfile": "FROM node:20\n", ".env": "RELEASE=r-2024-11-01\n"},
    )
    web = detection.services[0]
    assert web.args == {"NODE_VERSION": "20"}
    assert web.build_secrets == ["NPM_TOKEN", "SENTRY_RELEASE"]
    decide = _rows(detection, "decide")
    assert decide["services.web.build.secrets.NPM_TOKEN"].endswith("and add NPM_TOKEN to .env")
    assert "RUN --mount=type=secret,id=SENTRY_RELEASE" in decide["services.web.build.secrets.SENTRY_RELEASE"]


def test_extends_within_the_project(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  base: {build: ., environment: {LOG_LEVEL: info}}\n"
        "  worker: {extends: base, command: run-worker}\n"
        "  other: {extends: {service: base, file: common.yaml}, image: x}\n"
    )
    project = load_compose(tmp_path, tmp_path / "compose.yaml")
    assert project.services["worker"] == {"build": ".", "environment": {"LOG_LEVEL": "info"}, "command": "run-worker"}
    assert project.services["other"] == {"image": "x"}
    assert project.notes == ["other: extends a service of common.yaml, which init does not read"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", "the top level must be a mapping"),
        ("services: [api]\n", "services must be a mapping"),
        ("services:\n  api: [x]\n", "services.api: must be a mapping"),
        ("services: {}\nsecrets: [a]\n", "secrets must be a mapping"),
        ("services:\n  api: {build: 5}\n", "services.api.build: must be a path or a mapping"),
        ("services:\n  api: {image: x, expose: 8000}\n", "services.api.expose: must be a list"),
        ("services:\n  api: {image: x, ports: '8000:8000'}\n", "services.api.ports: must be a list"),
    ],
)
def test_compose_shapes_init_cannot_read_are_usage_errors(tmp_path: Path, text: str, message: str) -> None:
    assert message in _init_fails(tmp_path, text)


def test_a_compose_redis_becomes_a_cache_its_url_variable_injected(tmp_path: Path) -> None:
    detection = _project(
        tmp_path,
        """
        services:
          api:
            build: .
            environment: {REDIS_URL: "redis://cache:6379/0"}
          worker:
            build: .
            command: python -m worker
            depends_on: [cache]
          tools:
            image: rediscommander/redis-commander
          cache:
            image: bitnami/redis:7.2
        """,
        {"Dockerfile": "FROM python:3.12\n"},
    )
    assert list(detection.caches) == ["cache"]
    assert detection.caches["cache"].env_var == "REDIS_URL"
    services = {s.name: s for s in detection.services}
    assert services["api"].caches == ["cache"] and "REDIS_URL" not in services["api"].env
    assert services["worker"].caches == ["cache"]  # through depends_on
    assert "caches.cache" in _rows(detection, "mapped")
    assert "services.api.env.REDIS_URL" in _rows(detection, "dropped")
    assert "tools" in _rows(detection, "dropped")  # redis-commander is a local tool, not a cache
    assert "cache" not in _rows(detection, "dropped")


def test_a_workers_compose_secret_file_becomes_a_secret_variable(tmp_path: Path) -> None:
    # Cloud Run worker pools cannot mount secret files, so `shipit validate` refuses secret_files on a worker.
    (tmp_path / "compose.yaml").write_text(
        textwrap.dedent(
            """
            services:
              api: {image: ghcr.io/acme/api:1, ports: ["8000:8000"], secrets: [signing_key]}
              worker: {image: ghcr.io/acme/api:1, command: python worker.py, secrets: [signing_key]}
            secrets:
              signing_key: {file: ./signing.key}
            """
        )
    )
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    detection = map_compose(tmp_path, tmp_path / "compose.yaml")
    api, worker = (next(s for s in detection.services if s.name == n) for n in ("api", "worker"))
    assert api.secret_files == {"/run/secrets/signing_key": "SIGNING_KEY"} and "SIGNING_KEY" not in api.secrets
    assert worker.secret_files == {} and worker.secrets == ["SIGNING_KEY"]
    assert "worker pools cannot mount secret files" in _rows(detection, "decide")["services.worker.secrets"]
    checked = invoke("-f", str(tmp_path / "shipit.yaml"), "validate")
    assert checked.exit_code == 0, checked.output
