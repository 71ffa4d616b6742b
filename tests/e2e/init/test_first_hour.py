"""The first hour of a new user, as subprocesses: a compose app with a frontend, an API, a worker, Postgres 12,
the Pub/Sub emulator, a MySQL service, a compose `secrets:` file and a .env goes through `shipit init`,
`shipit validate`, `shipit plan --offline` and `shipit local export`.

Each test names one way the first hour used to go wrong; each fails on an `init` that copied compose
naively (local-only values into the cloud, the emulator and its topic dropped, a worker given port 8080,
a development build stage shipped, MySQL and secret files dropped without a word, compose host names left
in URLs, image-only projects refused, Postgres 12 rejected, a project id made up in silence).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

CORPUS = Path(__file__).resolve().parents[2] / "init_corpus"
SRC = Path(__file__).resolve().parents[3] / "src"


def shipit(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-m", "shipit", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=300,
    )


class FirstHour:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.init = shipit(root, "init", "--yes")
        assert self.init.returncode == 0, self.init.stdout + self.init.stderr
        self.text = (root / "shipit.yaml").read_text()
        self.config: dict[str, Any] = yaml.safe_load(self.text)
        self.report = self.init.stdout + self.init.stderr

    def service(self, name: str) -> dict[str, Any]:
        return dict(self.config["services"][name])

    def row(self, status: str, subject: str) -> str:
        """The report line for ``subject``; fails when init did not say it."""
        for line in self.report.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == status and parts[1] == subject:
                return line
        raise AssertionError(f"no '{status} {subject}' row in init's report:\n{self.report}")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FirstHour:
    root = tmp_path_factory.mktemp("first-hour") / "myapp"
    shutil.copytree(CORPUS / "first-hour", root)
    (root / "expected.yaml").unlink()
    return FirstHour(root)


def test_local_only_values_stay_local(app: FirstHour) -> None:
    backend, frontend, worker = app.service("backend"), app.service("frontend"), app.service("worker")
    assert "PUBSUB_EMULATOR_HOST" not in backend.get("env", {}) and "PUBSUB_EMULATOR_HOST" not in worker.get("env", {})
    assert frontend["env"]["VITE_API_URL"] == "${services.backend.url}"
    assert frontend["local"]["env"]["VITE_API_URL"] == "http://localhost:8000"
    assert backend["env"]["GOOGLE_CLOUD_PROJECT"] == "${environment.project}"
    assert "myapp-dev" not in app.text and "pubsub:8085" not in app.text
    assert "emulator wiring" in app.row("dropped", "services.backend.env.PUBSUB_EMULATOR_HOST")


def test_the_emulator_becomes_pubsub_with_its_topic(app: FirstHour) -> None:
    assert app.config["pubsub"] == {"topics": {"jobs": {}}, "subscriptions": {"jobs-worker": {"topic": "jobs"}}}
    app.row("mapped", "pubsub")


def test_a_worker_without_a_port_is_a_worker(app: FirstHour) -> None:
    worker = app.service("worker")
    assert worker["kind"] == "worker"
    assert "port" not in worker and "health" not in worker
    assert worker["cloud_run"]["args"] == ["python", "-m", "app.worker"]


def test_a_development_stage_is_not_shipped(app: FirstHour) -> None:
    backend = app.service("backend")
    assert backend["build"]["target"] == "runtime"
    assert backend["local"]["target"] == "builder"
    assert "'builder' is a development stage" in app.row("guessed", "services.backend.build.target")


def test_mysql_and_secret_files_are_not_dropped_silently(app: FirstHour) -> None:
    assert "mysql (mysql:8) -> Cloud SQL for MySQL 8.4" in app.row("mapped", "databases.mysql")
    assert app.config["databases"]["mysql"] == {"engine": "mysql", "version": "8.4"}
    assert app.service("backend")["secret_files"] == {"/run/secrets/signing_key": "SIGNING_KEY"}
    assert "signing-key-content-42" not in app.text


def test_compose_host_names_become_service_urls(app: FirstHour) -> None:
    assert app.service("backend")["env"]["NOTIFY_URL"] == "${services.notifier.url}/send"
    assert "http://notifier" not in app.text


def test_image_only_services_deploy_their_image(app: FirstHour, tmp_path: Path) -> None:
    root = tmp_path / "images"
    shutil.copytree(CORPUS / "image-only", root)
    only_images = shipit(root, "init", "--yes")
    assert "nothing to deploy" not in only_images.stderr
    assert only_images.returncode == 0, only_images.stderr
    assert set(yaml.safe_load((root / "shipit.yaml").read_text())["services"]) == {"app", "worker"}
    notifier = app.service("notifier")
    assert notifier["image"] == "ghcr.io/acme/notifier:2.1.0" and notifier["build"] is None


def test_postgres_12_maps_to_the_nearest_cloud_sql_version(app: FirstHour) -> None:
    assert app.config["databases"]["db"]["version"] == "13"
    assert "Postgres 12" in app.row("mapped", "databases.db.version")


def test_the_project_id_guess_is_said(app: FirstHour) -> None:
    assert "pass --project" in app.row("guessed", "environments.staging.project")


def test_validate_plan_and_local_export_accept_what_init_wrote(app: FirstHour) -> None:
    validated = shipit(app.root, "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    planned = shipit(app.root, "--json", "plan", "--offline")
    assert planned.returncode == 0, planned.stderr
    assert "would stop" not in planned.stdout + planned.stderr
    steps = {step["step"]: step for step in json.loads(planned.stdout)["steps"]}
    created = {change["resource"] for change in steps["services"]["changes"]}
    assert {"service frontend", "service backend"} <= created
    exported = shipit(app.root, "local", "export")
    assert exported.returncode == 0, exported.stderr
    compose = yaml.safe_load(exported.stdout)
    backend = compose["services"]["backend"]
    assert backend["build"]["target"] == "builder"  # locally, the development stage as before
    assert backend["environment"]["PUBSUB_EMULATOR_HOST"] == "pubsub-emulator:8085"
    assert backend["environment"]["STRIPE_KEY"] == "${STRIPE_KEY}"  # a reference, never the value
    assert compose["services"]["frontend"]["environment"]["VITE_API_URL"] == "http://localhost:8000"
    assert compose["services"]["frontend"]["ports"] == ["127.0.0.1:5173:80"]  # the laptop URL kept
    assert "sk_test_first_hour_value" not in exported.stdout


@pytest.mark.compose
def test_the_exported_compose_file_is_valid_compose(app: FirstHour, compose_cmd: list[str], tmp_path: Path) -> None:
    exported = shipit(app.root, "local", "export")
    path = app.root / "exported-compose.yaml"
    path.write_text(exported.stdout)
    checked = subprocess.run(
        [*compose_cmd, "-f", str(path), "config", "-q"],
        capture_output=True,
        text=True,
        env={**os.environ, "STRIPE_KEY": "x", "SIGNING_KEY": "y"},
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
