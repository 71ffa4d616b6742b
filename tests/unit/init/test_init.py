from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cli_runner import invoke
from shipit.config import load_config
from shipit.init import detect

COMPOSE = """\
services:
  frontend:
    build: ./frontend
    ports: ["3000:3000"]
  backend:
    build: {context: ./backend, target: prod}
    ports: ["8000:8000"]
    environment:
      DATABASE_URL: postgres://app:app@db:5432/app
      STRIPE_API_KEY: sk_dev
      LOG_LEVEL: debug
    depends_on: [db]
  db:
    image: postgres:15-alpine
"""


@pytest.fixture
def compose_repo(tmp_path: Path) -> Path:
    root = tmp_path / "Acme_Shop"
    (root / "frontend").mkdir(parents=True)
    (root / "backend" / "app").mkdir(parents=True)
    (root / "docker-compose.yml").write_text(COMPOSE)
    (root / "frontend/package.json").write_text(
        json.dumps({"scripts": {"build": "vite build"}, "dependencies": {"react": "18"}})
    )
    (root / "backend/requirements.txt").write_text("fastapi\n")
    (root / "backend/app/main.py").write_text("app = None\n")
    return root


def test_detects_compose_services_ports_env_secrets_and_postgres(compose_repo: Path) -> None:
    detection = detect(compose_repo)
    assert detection.source == "docker-compose.yml"
    assert {k: d.version for k, d in detection.databases.items()} == {"db": "15"}
    by_name = {s.name: s for s in detection.services}
    assert set(by_name) == {"frontend", "backend"}
    assert by_name["frontend"].kind == "static" and by_name["frontend"].public
    backend = by_name["backend"]
    # No Dockerfile: init writes one, whose last stage is the production one (compose's `prod` is gone).
    assert (backend.kind, backend.port, backend.target) == ("python", 8000, None)
    assert backend.env == {"LOG_LEVEL": "debug"}
    assert backend.secrets == ["STRIPE_API_KEY"]
    assert backend.databases == ["db"]


def test_detects_from_manifests_without_compose(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web/package.json").write_text(json.dumps({"dependencies": {"express": "4"}}))
    (tmp_path / "api").mkdir()
    (tmp_path / "api/pyproject.toml").write_text("[project]\nname='api'\n")
    kinds = {s.name: s.kind for s in detect(tmp_path).services}
    assert kinds == {"api": "python", "web": "node"}


def test_init_writes_a_valid_config_and_production_files(compose_repo: Path) -> None:
    result = invoke("init", str(compose_repo), "--yes")
    assert result.exit_code == 0, result.output
    loaded = load_config(compose_repo / "shipit.yaml")
    config = loaded.base
    assert config.app == "acme-shop"
    assert config.environments["staging"].project == "acme-shop-staging"
    assert config.services["backend"].databases == ("db",)
    assert config.databases["db"].version == "15"
    assert config.services["frontend"].cloud_run.allow_unauthenticated
    backend_dockerfile = (compose_repo / "backend/Dockerfile").read_text()
    assert "app.main:app" in backend_dockerfile and "USER" in backend_dockerfile
    assert (compose_repo / "frontend/nginx.conf.template").is_file()
    assert (compose_repo / ".env.example").read_text().splitlines()[1:] == ["STRIPE_API_KEY="]
    # The secret's development value from compose is not copied anywhere.
    for path in compose_repo.rglob("*"):
        if path.is_file() and path.name != "docker-compose.yml":
            assert "sk_dev" not in path.read_text()


def test_init_never_overwrites_without_force(compose_repo: Path) -> None:
    assert invoke("init", str(compose_repo), "--yes").exit_code == 0
    (compose_repo / "shipit.yaml").write_text("# mine\n")
    refused = invoke("init", str(compose_repo), "--yes")
    assert refused.exit_code == 2
    assert "already exists" in refused.output and "--force" in refused.output
    assert (compose_repo / "shipit.yaml").read_text() == "# mine\n"
    forced = invoke("init", str(compose_repo), "--yes", "--force")
    assert forced.exit_code == 0
    assert yaml.safe_load((compose_repo / "shipit.yaml").read_text())["app"] == "acme-shop"


def test_bad_answer_writes_nothing(compose_repo: Path) -> None:
    result = invoke("init", str(compose_repo), "--yes", "--project", "Bad_Project")
    assert result.exit_code == 2
    assert "environments.staging.project: 'Bad_Project' is not a valid Google Cloud project id" in result.output
    assert not (compose_repo / "shipit.yaml").exists()
    assert "Traceback" not in result.output


def test_nothing_to_deploy(tmp_path: Path) -> None:
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 2
    assert "found nothing to deploy" in result.output


def test_a_compose_file_with_only_backing_services_says_what_it_saw(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  cache: {image: 'memcached:1'}\n  search: {image: 'nginx'}\n")
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 2
    assert "found nothing to deploy" in result.output
    assert "cache: Memcached (memcached:1)" in result.output and "search: nginx without a build" in result.output
    assert not (tmp_path / "shipit.yaml").exists()


def test_service_url_cycles_stay_local_and_are_asked(tmp_path: Path) -> None:
    """Two services calling each other by compose host name: Cloud Run cannot deploy that cycle, so init
    keeps one URL local and asks; the written file still validates."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  a: {image: 'x/a:1', ports: ['8000:8000'], environment: {B_URL: 'http://b:8000'}}\n"
        "  b: {image: 'x/b:1', ports: ['8001:8000'], environment: {A_URL: 'http://a:8000'}}\n"
    )
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    assert "decide: services.b.env.A_URL" in result.output
    assert load_config(tmp_path / "shipit.yaml").base.services["b"].local.env == {"A_URL": "http://a:8000"}


def test_a_mapping_the_config_rejects_is_an_exit_2_naming_the_problem(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  api: {image: 'x/api:1', ports: ['70000:70000']}\n")
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 2
    assert "the compose project maps to an invalid shipit.yaml: services.api.port:" in result.output
    assert "change that in the compose file" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "shipit.yaml").exists()
