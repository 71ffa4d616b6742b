"""`shipit build --engine cloudbuild` as a subprocess, against the fake Cloud Build and Cloud Storage over HTTP,
whose executor really builds on the local Docker engine and pushes to the authenticated local registry.

The image built "remotely" is pulled back from the registry and run. Faults: a failing Dockerfile step (the
error names its line), a lost CreateBuild answer (still one build), a timeout, and Ctrl-C (the build is
cancelled on Cloud Build).
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from e2e_support import fake_server_env
from engines.docker import DockerEngine
from engines.registry import RegistryServer
from fakegcp import FakeGCP, FakeGCPServer
from fakegcp.cloudbuild import DockerExecutor

pytestmark = [pytest.mark.docker, pytest.mark.registry]

PROJECT = "shop-prod-1"
REGION = "europe-west1"
BUCKET = f"{PROJECT}-shipit-builds"
CREATE = "cloudbuild.projects.locations.builds.create"


@dataclass
class Env:
    root: Path
    fake: FakeGCP
    executor: DockerExecutor
    env: dict[str, str]
    docker: dict[str, str]
    repository: str
    registry: RegistryServer

    def run(self, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "shipit", *args],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if expect is not None:
            assert proc.returncode == expect, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}\n{self.builds()}"
        return proc

    def ref(self, tag: str) -> str:
        return f"{self.registry.host}/{PROJECT}/{self.repository}/api:{tag}"

    def docker_cli(self, *args: str) -> str:
        out = subprocess.run(["docker", *args], env=self.docker, capture_output=True, text=True, check=True)
        return out.stdout

    def builds(self) -> list[dict[str, object]]:
        return list(self.fake.cloudbuild.builds.values())

    def write_dockerfile(self, text: str) -> None:
        (self.root / "api" / "Dockerfile").write_text(text)


def _write_project(root: Path, repository: str) -> None:
    (root / "api").mkdir(parents=True)
    (root / "shipit.yaml").write_text(
        f"""version: 1
app: shop
environments:
  prod:
    project: {PROJECT}
    region: {REGION}
    build:
      cloudbuild:
        timeout: 600
registry: {{repository: {repository}}}
secrets: {{extra: [NPM_TOKEN]}}
build:
  engine: local
services:
  api:
    build:
      context: api
      secrets: [NPM_TOKEN]
"""
    )
    (root / ".env").write_text("NPM_TOKEN=npm-secret-value\n")
    (root / "api" / "hello.txt").write_text("hello from cloud build\n")
    (root / "api" / "notes.local").write_text("must not be uploaded\n")
    (root / "api" / ".dockerignore").write_text("*.local\n")
    (root / "api" / "Dockerfile").write_text('FROM busybox\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n')


@pytest.fixture
def cb(tmp_path: Path, docker_engine: DockerEngine, registry: RegistryServer) -> Iterator[Env]:
    repository = f"cb{uuid.uuid4().hex[:10]}"
    _write_project(tmp_path, repository)
    fake = FakeGCP()
    fake.storage.add_bucket(BUCKET)
    fake.artifacts.add_repository(f"projects/{PROJECT}/locations/{REGION}/repositories/{repository}")
    fake.secrets.seed(PROJECT, "shop-prod-NPM_TOKEN", "npm-secret-value")
    executor = DockerExecutor(docker_engine.env(), (registry.host, registry.user, registry.token))
    fake.cloudbuild.executor = executor
    docker_env = {**os.environ, **docker_engine.env()}
    with FakeGCPServer(fake) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_", "SHIPIT_"))}
        env.update(docker_engine.env())
        env.update(fake_server_env(url, registry.token))
        env.update(
            CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDBUILD=url,
            CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE=url,
            SHIPIT_REGISTRY_HOST=registry.host,
            SHIPIT_CLOUDBUILD_POLL_SECONDS="0.2",
            PYTHONPATH=str(Path(__file__).resolve().parents[3] / "src"),
            NO_COLOR="1",
        )
        yield Env(tmp_path, fake, executor, env, docker_env, repository, registry)
        fake.cloudbuild.wait()


def test_dry_run_then_build_remotely_then_run_the_pulled_image(cb: Env) -> None:
    dry = cb.run("build", "--engine", "cloudbuild", "--dry-run")
    assert "on Cloud Build" in dry.stdout + dry.stderr and "upload" in dry.stdout + dry.stderr, dry.stdout
    assert cb.builds() == [] and cb.fake.storage.objects == {}

    done = cb.run("build", "--engine", "cloudbuild")
    output = done.stdout + done.stderr
    (build,) = cb.builds()
    assert build["status"] == "SUCCESS"
    # The service's log lines come through with its prefix, without Cloud Build's step prefix.
    assert "api | Step 2/4 : COPY hello.txt /hello.txt" in output, output
    assert "npm-secret-value" not in output
    # Uploaded: what .dockerignore keeps, nothing else.
    source = build["source"]["storageSource"]  # type: ignore[index]
    data = cb.fake.storage.read(source["bucket"], source["object"])
    assert data is not None
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == [".dockerignore", "Dockerfile", "hello.txt"]
    # Least privilege account, logs in the bucket, BuildKit with a registry cache, secrets from Secret Manager.
    assert (
        build["serviceAccount"] == f"projects/{PROJECT}/serviceAccounts/shipit-build@{PROJECT}.iam.gserviceaccount.com"
    )
    assert build["logsBucket"] == f"gs://{BUCKET}/logs"
    name = str(build["name"])
    assert name.startswith(f"projects/{PROJECT}/locations/{REGION}/builds/")
    flags = cb.executor.buildx_flags[name]
    cache = f"{cb.registry.host}/{PROJECT}/{cb.repository}/api:buildcache"
    assert f"type=registry,ref={cache}" in flags and f"type=registry,ref={cache},mode=max" in flags
    assert cb.executor.secret_env[name] == {"NPM_TOKEN": "npm-secret-value"}
    assert all("npm-secret-value" not in json.dumps(step) for step in build["steps"])  # type: ignore[attr-defined]

    # The image is in the registry: pulled from there (not the engine's copy) and run.
    (image,) = build["results"]["images"][:1]  # type: ignore[index]
    ref = image["name"]
    cb.docker_cli("image", "rm", "--force", *build["images"])  # type: ignore[arg-type]
    cb.docker_cli("login", "--username", cb.registry.user, "--password", cb.registry.token, cb.registry.host)
    cb.docker_cli("pull", f"{ref.rsplit(':', 1)[0]}@{image['digest']}")
    assert cb.docker_cli("run", "--rm", f"{ref.rsplit(':', 1)[0]}@{image['digest']}") == "hello from cloud build\n"

    # Same content: the registry has the tag, so no upload and no build.
    uploads = len(cb.fake.calls_to("storage.objects.insert"))
    again = cb.run("build", "--engine", "cloudbuild")
    assert "cached in the registry" in again.stdout + again.stderr
    assert len(cb.builds()) == 1 and len(cb.fake.calls_to("storage.objects.insert")) == uploads


def test_failing_step_names_the_dockerfile_line(cb: Env) -> None:
    cb.write_dockerfile('FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo breaking && false\nCMD ["true"]\n')
    failed = cb.run("build", "--engine", "cloudbuild", expect=1)
    assert "api/Dockerfile:3" in failed.stderr and "RUN echo breaking && false" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr
    (build,) = cb.builds()
    assert build["status"] == "FAILURE"


def test_lost_create_answer_starts_one_build(cb: Env) -> None:
    cb.fake.faults.drop_response(CREATE)
    cb.run("build", "--engine", "cloudbuild")
    assert len(cb.builds()) == 1 and cb.builds()[0]["status"] == "SUCCESS"
    assert len(cb.fake.calls_to(CREATE)) == 1


def test_timeout_is_reported(cb: Env) -> None:
    cb.write_dockerfile("FROM busybox\nRUN sleep 20\n")
    cb.fake.faults.time_out_builds()
    failed = cb.run("build", "--engine", "cloudbuild", expect=1)
    assert "timed out on Cloud Build" in failed.stderr and "build.cloudbuild.timeout" in failed.stderr, failed.stderr
    assert cb.builds()[0]["status"] == "TIMEOUT"


def test_ctrl_c_cancels_the_remote_build(cb: Env) -> None:
    cb.write_dockerfile("FROM busybox\nRUN sleep 60\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "shipit", "build", "--engine", "cloudbuild"],
        cwd=cb.root,
        env=cb.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    out: list[str] = []
    readers = [threading.Thread(target=lambda s=s: out.extend(s), daemon=True) for s in (proc.stdout, proc.stderr)]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + 120
        while "RUN sleep 60" not in "".join(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, "".join(out)
        os.killpg(proc.pid, signal.SIGINT)
        returncode = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    for reader in readers:
        reader.join(timeout=10)
    assert returncode == 130, "".join(out)
    assert len(cb.fake.calls_to("cloudbuild.projects.locations.builds.cancel")) == 1, "".join(out)
    assert cb.builds()[0]["status"] == "CANCELLED"


def test_deploy_pushes_nothing_after_a_remote_build(cb: Env) -> None:
    done = cb.run("deploy", "--engine", "cloudbuild", "--only", "build,push", "--yes")
    assert "pushed by Cloud Build: " in done.stdout + done.stderr
    # Re-planned after the build, push finds the image Cloud Build pushed: nothing to upload.
    assert re.search(r"^push\s+unchanged", done.stdout + done.stderr, re.MULTILINE), done.stdout + done.stderr
    (build,) = cb.builds()
    assert build["status"] == "SUCCESS"
    (image,) = build["results"]["images"]  # type: ignore[index]
    recorded = json.loads((cb.root / ".shipit" / "images" / "prod.json").read_text())
    assert image["digest"] in json.dumps(recorded)


def test_a_preview_builds_on_the_engine_it_is_given(cb: Env) -> None:
    # `deploy --preview` runs the same build step as `deploy`: --engine must reach it too.
    dry = cb.run("deploy", "--preview", "pr-7", "--only", "build", "--engine", "cloudbuild", "--dry-run", "--yes")
    assert "on Cloud Build" in dry.stdout + dry.stderr, dry.stdout + dry.stderr
    assert cb.builds() == [] and cb.fake.storage.objects == {}
