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
    assert detection.postgres_version == "15"
    by_name = {s.name: s for s in detection.services}
    assert set(by_name) == {"frontend", "backend"}
    assert by_name["frontend"].kind == "static" and by_name["frontend"].public
    backend = by_name["backend"]
    assert (backend.kind, backend.port, backend.target) == ("python", 8000, "prod")
    assert backend.env == {"LOG_LEVEL": "debug"}
    assert backend.secrets == ["STRIPE_API_KEY"]
    assert backend.databases == ["main"]


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
    assert config.services["backend"].databases == ("main",)
    assert config.databases["main"].version == "15"
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


def test_a_compose_service_with_no_port_is_proposed_as_a_worker(compose_repo: Path) -> None:
    compose = compose_repo / "docker-compose.yml"
    compose.write_text(
        compose.read_text().replace(
            "  db:\n",
            "  worker:\n    build: ./backend\n    command: python -m app.worker\n    depends_on: [db]\n  db:\n",
        )
    )
    by_name = {s.name: s for s in detect(compose_repo).services}
    assert by_name["worker"].worker and not by_name["worker"].public
    assert not by_name["backend"].worker and not by_name["frontend"].worker
    result = invoke("init", str(compose_repo), "--yes")
    assert result.exit_code == 0, result.output
    config = load_config(compose_repo / "shipit.yaml").base
    worker = config.services["worker"]
    assert worker.kind == "worker" and "port" not in worker.model_fields_set
    assert worker.databases == ("main",)
    assert config.services["backend"].kind == "service"
