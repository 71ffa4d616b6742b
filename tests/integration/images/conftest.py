"""A throwaway project (git repo) on the real Docker engine and the real authenticated registry."""

from __future__ import annotations

import io
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engines.docker import DockerEngine
from engines.registry import RegistryServer
from shipit.adapters.gcp import auth
from shipit.config import load_config, resolve_target
from shipit.output import Console
from shipit.steps.context import RunOptions, StepContext

API_DOCKERFILE = """\
FROM busybox AS build
COPY app.txt /src/app.txt
RUN mkdir -p /out && tr a-z A-Z < /src/app.txt > /out/app.txt && echo junk > /junk.txt
FROM busybox AS runtime
COPY --from=build /out/app.txt /app/app.txt
USER app
CMD ["cat", "/app/app.txt"]
"""
WEB_DOCKERFILE = """\
FROM busybox
COPY site /site
RUN wc -c /site/index.html
CMD ["cat", "/site/index.html"]
"""


@dataclass
class Project:
    root: Path
    repository: str
    host: str
    docker: DockerEngine

    def ctx(self, *, jobs: int = 4) -> StepContext:
        loaded = load_config(self.root / "shipit.yaml", "shipit.yaml")
        target = resolve_target(loaded, "staging")
        console = Console(stdout=io.StringIO(), stderr=io.StringIO(), color=False)
        return StepContext(target=target, console=console, options=RunOptions(jobs=jobs))

    def repo(self, service: str) -> str:
        return f"{self.host}/test-proj/{self.repository}/{service}"

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=self.root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def commit(self, message: str = "c") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def docker_cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", *args], env=self.docker.env(), capture_output=True, text=True, check=check)

    def run_image(self, ref: str, *cmd: str, user: str | None = None) -> str:
        extra = ["--user", user] if user else []
        entry = ["--entrypoint", cmd[0]] if cmd else []
        return self.docker_cli("run", "--rm", *extra, *entry, ref, *cmd[1:]).stdout


def write_project(root: Path, repository: str) -> None:
    (root / "shipit.yaml").write_text(
        "version: 1\napp: demo\nenvironments:\n  staging: {project: test-proj, region: us-central1}\n"
        f"registry: {{repository: {repository}}}\n"
        "services:\n  api:\n    build: {context: ./api, target: runtime}\n  web:\n    build: {context: ./web}\n"
    )
    (root / ".gitignore").write_text(".shipit/\n")
    api = root / "api"
    (api / "notes").mkdir(parents=True)
    (api / "Dockerfile").write_text(API_DOCKERFILE)
    (api / ".dockerignore").write_text("notes/\n*.log\n")
    (api / "app.txt").write_text("hello\n")
    (api / "notes" / "todo.md").write_text("ignored\n")
    web = root / "web" / "site"
    web.mkdir(parents=True)
    (root / "web" / "Dockerfile").write_text(WEB_DOCKERFILE)
    (web / "index.html").write_text("<h1>hi</h1>\n")


@pytest.fixture
def project(
    tmp_path: Path, docker_engine: DockerEngine, registry: RegistryServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Project]:
    repository = "t" + uuid.uuid4().hex[:10]
    write_project(tmp_path, repository)
    for key, value in docker_engine.env_overrides().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SHIPIT_REGISTRY_HOST", registry.host)
    monkeypatch.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN", registry.token)
    monkeypatch.delenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_ARTIFACTREGISTRY", raising=False)
    monkeypatch.delenv("SHIPIT_BUILDER", raising=False)
    auth.reset_cache()
    proj = Project(tmp_path, repository, registry.host, docker_engine)
    proj.git("init", "-q")
    proj.commit("initial")
    yield proj
    auth.reset_cache()
    listed = proj.docker_cli("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout.split()
    mine = [ref for ref in listed if f"/{repository}/" in ref]
    if mine:
        proj.docker_cli("image", "rm", "--force", *mine, check=False)
