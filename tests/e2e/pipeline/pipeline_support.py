"""Shared pieces of the pipeline e2e tests: `shipit plan|deploy` as a subprocess against fakegcp's HTTP
server, the real Docker engine, the real authenticated registry and real Terraform (built-in resources).

The sample project (written into a temporary directory, a git repository):
  api   multi-stage image FROM the local busybox, secret STRIPE_KEY from .env, database main
        (whose ``migrate`` runs as a Cloud Run Job with api's image), health /health
  web   single-stage image, API_URL = ${services.api.url} (so it deploys after api), public
  infra/environments/staging/main.tf: ``terraform_data`` plus outputs (service accounts, a VPC
        connector, the database's URL secret) with a local backend: a user-owned infra dir.
Health checks go to a small local HTTP server (SHIPIT_HEALTH_CHECK_URL_OVERRIDE) whose answer the
test chooses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from e2e_support import HealthServer, fake_server_env
from engines.docker import DockerEngine
from engines.registry import RegistryServer
from fakegcp import FakeGCP
from fakegcp.server import FakeGCPServer

PROJECT = "acme-staging"
REGION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
JOB = "acme-migrate-main"
SERVICE_ACCOUNTS = {
    "api": f"api-sa@{PROJECT}.iam.gserviceaccount.com",
    "web": f"web-sa@{PROJECT}.iam.gserviceaccount.com",
}
CONNECTOR = f"{PARENT}/connectors/acme-staging"
SECRET_ID = "acme-staging-STRIPE_KEY"
# A value no part of shipit may ever print or write anywhere except Secret Manager's addVersion payload.
CANARY = "canary-Zq7xK2pW9vLm4RtY"
CANARY_2 = "canary-Hb3nJ8sD1fGk6MwE"

CONFIG = """\
version: 1
app: acme
environments:
  staging: {{project: {project}, region: {region}}}
registry: {{repository: {repository}}}
infra: {{backend: local}}
test: {{command: ["sh", "-c", "test -f api/app.txt && test -f web/index.html"]}}
databases:
  main:
    migrate: {{command: ["sh", "-c", "echo migrating"], service: api, timeout: 60}}
services:
  api:
    build: {{context: ./api, target: runtime}}
    env: {{LOG_LEVEL: info}}
    secrets: [STRIPE_KEY]
    databases: [main]
    health: {{path: /health, timeout: 2}}
  web:
    build: {{context: ./web}}
    env: {{API_URL: "${{services.api.url}}"}}
    health: {{path: /, timeout: 2}}
    cloud_run: {{allow_unauthenticated: true}}
"""

API_DOCKERFILE = """\
FROM {base} AS build
COPY app.txt /src/app.txt
RUN mkdir -p /out && tr a-z A-Z < /src/app.txt > /out/app.txt
FROM {base} AS runtime
{slow}COPY --from=build /out/app.txt /app/app.txt
USER app
CMD ["cat", "/app/app.txt"]
"""

WEB_DOCKERFILE = """\
FROM {base}
COPY index.html /site/index.html
CMD ["cat", "/site/index.html"]
"""

MAIN_TF = """\
terraform {{
  backend "local" {{}}
}}

resource "terraform_data" "network" {{
  input = "{project}-network"
}}

output "service_accounts" {{
  value = {{
    api = "{api_sa}"
    web = "{web_sa}"
  }}
}}

output "vpc_connector" {{
  value = "{connector}"
}}

output "databases" {{
  value = {{
    main = {{
      connection_name    = "{project}:{region}:acme-main"
      private_ip         = "10.20.0.3"
      url_secret         = "acme-staging-DATABASE_URL"
      url_secret_version = "1"
    }}
  }}
}}
"""

# Records every process the CLI starts (argv included), so a test can prove no secret reached `ps`.
AUDIT_HOOK = """\
import os, sys
_log = os.environ.get("SHIPIT_TEST_AUDIT_LOG")
if _log:
    def _hook(event, args):
        if event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"):
            with open(_log, "a") as fh:
                fh.write(event + " " + repr(args) + "\\n")
    sys.addaudithook(_hook)
"""

GITIGNORE = ".env\n.shipit/\n.terraform/\n*.tfstate\n*.tfstate.*\n.terraform.lock.hcl\n"


@dataclass
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def __str__(self) -> str:
        head = f"shipit {' '.join(self.args)} -> {self.returncode}"
        return f"{head}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclass
class Project:
    """A sample project on disk, its fake Google Cloud, and a runner for the CLI against both."""

    root: Path
    repository: str
    fake: FakeGCP
    url: str
    health: HealthServer
    docker: DockerEngine
    registry: RegistryServer
    env: dict[str, str]
    results: list[Result] = field(default_factory=list)

    # -- running shipit -----------------------------------------------------------------------------
    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "shipit", *args],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def __call__(self, *args: str, expect: int | None = 0, timeout: float = 180) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "shipit", *args],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = Result(tuple(args), proc.returncode, proc.stdout, proc.stderr)
        self.results.append(result)
        if expect is not None:
            assert proc.returncode == expect, str(result)
        return result

    def record(self, result: Result) -> Result:
        self.results.append(result)
        return result

    # -- the project's files ------------------------------------------------------------------------
    def write_env(self, value: str) -> None:
        (self.root / ".env").write_text(f"STRIPE_KEY={value}\n")

    def change_api(self, text: str) -> None:
        """A new api image (its context changes): a new revision, and the migration runs again."""
        (self.root / "api" / "app.txt").write_text(text + "\n")

    # -- the fake cloud -----------------------------------------------------------------------------
    def service(self, name: str) -> dict[str, Any]:
        return self.fake.run.services[f"{PARENT}/services/{name}"]

    def serving(self, name: str) -> list[tuple[str, int]]:
        """(revision, percent) of the live service's traffic statuses."""
        service = self.service(name)
        ready = service.get("latestReadyRevision", "").rsplit("/", 1)[-1]
        return [
            (str(s.get("revision") or ready), int(s.get("percent", 0)))
            for s in service.get("trafficStatuses", [])
            if int(s.get("percent", 0))
        ]

    def revisions(self, name: str) -> list[str]:
        return list(self.fake.run.revision_names(f"{PARENT}/services/{name}"))

    def mutating(self) -> list[str]:
        return [f"{c.method_id} {c.path}" for c in self.fake.mutating_calls()]

    # -- the engines --------------------------------------------------------------------------------
    def registry_files(self) -> dict[str, tuple[int, int]]:
        """Every file of the registry's storage (path -> size, mtime): an upload adds or touches some."""
        data = self.registry.workdir / "data"
        out: dict[str, tuple[int, int]] = {}
        for path in data.rglob("*"):
            if path.is_file():
                st = path.stat()
                out[str(path.relative_to(data))] = (st.st_size, st.st_mtime_ns)
        return out

    def manifest(self, service: str, reference: str) -> tuple[int, bytes]:
        status, body = self.registry.request(f"/v2/{PROJECT}/{self.repository}/{service}/manifests/{reference}")
        return int(status), bytes(body)

    def docker_cli(self, *args: str) -> str:
        return subprocess.run(
            ["docker", *args], env=self.docker.env(), capture_output=True, text=True, check=True, timeout=60
        ).stdout

    def docker_events(self, since: float, until: float) -> list[dict[str, Any]]:
        """What the engine did to this project's images between two moments (a build tags, a push pushes)."""
        out = self.docker_cli("events", "--since", f"{since:.3f}", "--until", f"{until:.3f}", "--format", "{{json .}}")
        events = [json.loads(line) for line in out.splitlines() if line.strip()]
        # Only this project's: other test sessions may share the engine.
        return [e for e in events if f"/{self.repository}/" in json.dumps(e)]

    def images(self) -> set[str]:
        listed = self.docker_cli("image", "ls", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
        return {line for line in listed.splitlines() if f"/{self.repository}/" in line}

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=self.root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()


def write_project(root: Path, repository: str, base: str, *, slow_build: str | None = None) -> None:
    (root / "shipit.yaml").write_text(CONFIG.format(project=PROJECT, region=REGION, repository=repository))
    (root / ".gitignore").write_text(GITIGNORE)
    (root / ".env").write_text(f"STRIPE_KEY={CANARY}\n")
    api = root / "api"
    api.mkdir()
    # The slow step names the repository so the layer cache of another test never skips it.
    slow = f"RUN echo {slow_build} > /slow.txt && sleep 3\n" if slow_build else ""
    (api / "Dockerfile").write_text(API_DOCKERFILE.format(base=base, slow=slow))
    (api / "app.txt").write_text("hello\n")
    web = root / "web"
    web.mkdir()
    (web / "Dockerfile").write_text(WEB_DOCKERFILE.format(base=base))
    (web / "index.html").write_text("<h1>hi</h1>\n")
    infra = root / "infra" / "environments" / "staging"
    infra.mkdir(parents=True)
    (infra / "main.tf").write_text(
        MAIN_TF.format(
            project=PROJECT,
            region=REGION,
            api_sa=SERVICE_ACCOUNTS["api"],
            web_sa=SERVICE_ACCOUNTS["web"],
            connector=CONNECTOR,
        )
    )


def cli_env(fake_url: str, health_url: str, docker: DockerEngine, registry: RegistryServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_", "SHIPIT_"))}
    env.update(docker.env_overrides())
    env.update(fake_server_env(fake_url))
    env.update(
        # The registry's token also authenticates to the fake, which accepts any bearer token.
        CLOUDSDK_AUTH_ACCESS_TOKEN=registry.token,
        SHIPIT_REGISTRY_HOST=registry.host,
        SHIPIT_HEALTH_CHECK_URL_OVERRIDE=health_url,
        NO_COLOR="1",
    )
    return env


ProjectFactory = Callable[..., Project]


@pytest.fixture(scope="module")
def project_factory(
    tmp_path_factory: pytest.TempPathFactory,
    docker_engine: DockerEngine,
    registry: RegistryServer,
    terraform_bin: str,
) -> Iterator[ProjectFactory]:
    """Make a fresh sample project with its own fake cloud, health server and image repository."""
    stack = ExitStack()
    made: list[Project] = []

    def make(*, slow_build: bool = False) -> Project:
        repository = "p" + uuid.uuid4().hex[:10]
        root = tmp_path_factory.mktemp("pipeline") / "app"
        root.mkdir()
        write_project(root, repository, docker_engine.base_image, slow_build=repository if slow_build else None)
        fake = FakeGCP()
        server = FakeGCPServer(fake)
        url = server.start()
        stack.callback(server.stop)
        health = HealthServer()
        stack.callback(health.stop)
        env = cli_env(url, health.url, docker_engine, registry)
        project = Project(root, repository, fake, url, health, docker_engine, registry, env)
        project.git("init", "-q")
        project.git("add", "-A")
        project.git("commit", "-q", "-m", "initial")
        made.append(project)
        return project

    yield make
    stack.close()
    for project in made:
        refs = [line.split()[0] for line in project.images()]
        if refs:
            subprocess.run(["docker", "image", "rm", "--force", *refs], env=docker_engine.env(), capture_output=True)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
