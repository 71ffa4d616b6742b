"""`shipit local` on the real Docker engine with docker-compose v1 and locally built busybox images."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engines.docker import DockerEngine
from shipit.adapters.compose import project_containers
from shipit.config import Target, load_config, resolve_target
from shipit.local.compose import UpOptions, down, ps, up
from shipit.local.ports import free_port
from shipit.output import Console

pytestmark = [pytest.mark.docker, pytest.mark.compose]

REPO = Path(__file__).resolve().parents[3]
SECRET = "tok-" + uuid.uuid4().hex

DOCKERFILE = """\
FROM busybox AS dev
COPY serve.sh /serve.sh
CMD ["sh", "/serve.sh"]
FROM dev AS runtime
"""

# Each service serves its environment; web also fetches api's page through API_URL (http://api:8080).
SERVE = """\
mkdir -p /www
echo "hello from $K_SERVICE" > /www/index.html
env | sort > /www/env.txt
if [ -n "$API_URL" ]; then
  (for i in $(seq 1 60); do wget -q -O /www/from-api.html "$API_URL/" && break; sleep 0.5; done) &
fi
exec httpd -f -p "$PORT" -h /www
"""


def _console() -> Console:
    return Console(stdout=io.StringIO(), stderr=io.StringIO(), color=False)


def _get(url: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture
def stack(tmp_path: Path, docker_engine: DockerEngine) -> Iterator[Target]:
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text(DOCKERFILE)
    (app / "serve.sh").write_text(SERVE)
    name = "t" + uuid.uuid4().hex[:8]
    (tmp_path / "shipit.yaml").write_text(
        textwrap.dedent(
            f"""
            version: 1
            app: {name}
            environments: {{dev: {{project: demo-project, region: us-central1}}}}
            services:
              api:
                build: {{context: ./app, target: runtime}}
                secrets: [API_TOKEN]
                health: {{path: /index.html, timeout: 60s}}
                local: {{target: dev, ports: ["127.0.0.1:{free_port()}:8080"]}}
              web:
                build: {{context: ./app}}
                env: {{API_URL: "${{services.api.url}}"}}
                local: {{ports: ["127.0.0.1:{free_port()}:8080"]}}
            """
        )
    )
    (tmp_path / ".env").write_text(f"API_TOKEN={SECRET}\n")
    target = resolve_target(load_config(tmp_path / "shipit.yaml"), None)
    try:
        yield target
    finally:
        down(target, _console(), volumes=True)


def test_up_starts_a_stack_whose_services_reach_each_other_by_name_and_down_removes_it(stack: Target) -> None:
    statuses = {s.service: s for s in up(stack, _console(), UpOptions())}
    assert statuses["api"].state == "running" and statuses["web"].state == "running"
    api_url, web_url = statuses["api"].url, statuses["web"].url
    assert api_url and web_url
    assert _get(api_url + "/").strip() == "hello from api"
    # web fetched http://api:8080/ through the compose network, from the URL shipit put in its env
    assert _get(web_url + "/from-api.html").strip() == "hello from api"
    api_env = _get(api_url + "/env.txt")
    assert f"API_TOKEN={SECRET}" in api_env  # the secret reached the container from .env ...
    assert SECRET not in (stack.root / ".shipit" / "compose.yaml").read_text()  # ... but not the file
    assert "PORT=8080" in api_env and "K_SERVICE=api" in api_env

    assert {s.service for s in ps(stack)} == {"api", "web"}
    project = f"{stack.app}-{stack.env_name}"
    down(stack, _console(), volumes=True)
    assert project_containers(project) == []
    networks = subprocess.run(
        ["docker", "network", "ls", "-q", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert networks.stdout.strip() == ""


def test_generated_files_validate_with_docker_compose_config(
    stack: Target, compose_cmd: list[str], tmp_path: Path
) -> None:
    from shipit.local.compose import prepare, write

    example_dir = tmp_path / "example"
    example_dir.mkdir()
    shutil.copy(REPO / "shipit.yaml.example", example_dir / "shipit.yaml")
    (example_dir / ".env.staging").write_text("STRIPE_KEY=sk_test_x\n")
    for context in ("backend", "frontend"):
        (example_dir / context).mkdir()
    fullstack = tmp_path / "fullstack"
    shutil.copytree(REPO / "examples" / "fullstack", fullstack)
    (fullstack / ".env").write_text("STRIPE_KEY=sk_test_x\n")
    targets = [stack, *(resolve_target(load_config(d / "shipit.yaml"), None) for d in (example_dir, fullstack))]
    for target in targets:
        path = write(prepare(target))
        result = subprocess.run(
            [*compose_cmd, "-f", str(path), "config", "-q"],
            capture_output=True,
            text=True,
            env={**os.environ, "API_TOKEN": "x", "STRIPE_KEY": "y"},
        )
        assert result.returncode == 0, result.stderr
