"""Prove that each real test engine works: docker builds, registry pushes, terraform, postgres,
compose networking and the Pub/Sub emulator."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import textwrap
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engines.docker import DockerEngine
from engines.postgres import PostgresServer
from engines.registry import RegistryServer

MULTI_STAGE = """\
FROM busybox AS build
RUN mkdir -p /out && echo "built-$(echo shipit | tr a-z A-Z)" > /out/artifact.txt && echo junk > /junk.txt
FROM busybox AS runtime
COPY --from=build /out/artifact.txt /app/artifact.txt
USER app
CMD ["cat", "/app/artifact.txt"]
"""


def _build(engine: DockerEngine, context: Path, tag: str) -> str:
    docker = engine.client()
    image = docker.legacy_build(context, tags=[tag])
    return str(image.id)


@pytest.fixture(scope="module")
def built_image(docker_engine: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    context = tmp_path_factory.mktemp("ctx")
    (context / "Dockerfile").write_text(MULTI_STAGE)
    tag = f"shipit-test/multistage:{uuid.uuid4().hex[:8]}"
    _build(docker_engine, context, tag)
    yield tag
    # The engine may be shared with other sessions: remove only what this module made.
    docker_engine.client().image.remove(tag, force=True)


@pytest.mark.docker
def test_base_image_is_local_busybox(docker_engine: DockerEngine) -> None:
    docker = docker_engine.client()
    for ref in (docker_engine.base_image, "busybox:latest"):
        assert docker.image.exists(ref)
    out = docker.run(docker_engine.base_image, ["sh", "-c", "id -un app && echo $PATH"], remove=True)
    assert "app" in str(out)


@pytest.mark.docker
def test_multi_stage_build_keeps_only_the_artifact(docker_engine: DockerEngine, built_image: str) -> None:
    docker = docker_engine.client()
    assert str(docker.run(built_image, remove=True)).strip() == "built-SHIPIT"
    assert str(docker.run(built_image, ["id", "-u"], remove=True)).strip() == "1000"
    listing = str(docker.run(built_image, ["ls", "/"], remove=True, user="root"))
    assert "junk.txt" not in listing.split()
    history = docker.image.inspect(built_image)
    assert history.config.user == "app"


@pytest.mark.docker
@pytest.mark.registry
def test_push_to_registry_with_token(docker_engine: DockerEngine, registry: RegistryServer, built_image: str) -> None:
    env = docker_engine.env()
    login = subprocess.run(
        ["docker", "login", "--username", registry.user, "--password-stdin", registry.host],
        input=registry.token,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert login.returncode == 0, login.stderr
    assert registry.token not in (login.stdout + login.stderr)
    remote = f"{registry.host}/acme-staging/apps/api:{uuid.uuid4().hex[:8]}"
    docker = docker_engine.client()
    docker.image.tag(built_image, remote)
    docker.image.push(remote, quiet=True)

    repo, tag = remote.split("/", 1)[1].rsplit(":", 1)
    status, body = registry.request(f"/v2/{repo}/tags/list")
    assert status == 200
    assert tag in json.loads(body)["tags"]
    status, manifest = registry.request(f"/v2/{repo}/manifests/{tag}")
    assert status == 200 and json.loads(manifest)["schemaVersion"] == 2
    # Pull it back after removing the local copy.
    docker.image.remove(remote)
    docker.image.pull(remote, quiet=True)
    assert docker.image.exists(remote)
    docker.image.remove(remote, force=True)


@pytest.mark.docker
@pytest.mark.registry
def test_registry_rejects_a_wrong_token(docker_engine: DockerEngine, registry: RegistryServer) -> None:
    assert registry.request("/v2/", token="not-the-token")[0] == 401
    wrong = subprocess.run(
        ["docker", "login", "--username", registry.user, "--password-stdin", registry.host],
        input="ya29.wrong-token",
        capture_output=True,
        text=True,
        env=docker_engine.env(),
        timeout=60,
        check=False,
    )
    assert wrong.returncode != 0
    assert "401" in wrong.stderr or "unauthorized" in wrong.stderr.lower()
    # A push with valid-looking but wrong stored credentials fails too.
    cfg = docker_engine.config_dir.parent / f"{docker_engine.config_dir.name}-wrong"
    cfg.mkdir()
    try:
        auth = base64.b64encode(f"{registry.user}:wrong".encode()).decode()
        (cfg / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
        env = {**docker_engine.env(), "DOCKER_CONFIG": str(cfg)}
        remote = f"{registry.host}/acme/denied:1"
        subprocess.run(["docker", "tag", docker_engine.base_image, remote], env=env, check=True, timeout=60)
        push = subprocess.run(
            ["docker", "push", remote], capture_output=True, text=True, env=env, timeout=120, check=False
        )
        assert push.returncode != 0
        assert "unauthorized" in (push.stdout + push.stderr).lower()
        subprocess.run(["docker", "rmi", remote], env=env, capture_output=True, timeout=60, check=False)
    finally:
        shutil.rmtree(cfg, ignore_errors=True)


@pytest.mark.terraform
def test_terraform_apply_builtin_resource(terraform_bin: str, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        textwrap.dedent("""\
        terraform {
          required_version = ">= 1.5"
        }
        variable "image" {
          type = string
        }
        resource "terraform_data" "release" {
          input = var.image
        }
        output "image" {
          value = terraform_data.release.output
        }
        """)
    )

    def tf(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [terraform_bin, f"-chdir={tmp_path}", *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    tf("init", "-input=false", "-no-color")
    tf("apply", "-auto-approve", "-input=false", "-no-color", "-var", "image=api@sha256:abc")
    out = json.loads(tf("output", "-json").stdout)
    assert out["image"]["value"] == "api@sha256:abc"
    plan = tf("plan", "-detailed-exitcode", "-input=false", "-no-color", "-var", "image=api@sha256:abc")
    assert "No changes" in plan.stdout


@pytest.mark.postgres
def test_postgres_roundtrip(postgres_server: PostgresServer) -> None:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(postgres_server.dsn, connect_timeout=10) as conn:
        conn.execute("CREATE TABLE releases (id serial PRIMARY KEY, image text NOT NULL)")
        conn.execute("INSERT INTO releases (image) VALUES (%s), (%s)", ("api:1", "api:2"))
        rows = conn.execute("SELECT image FROM releases ORDER BY id").fetchall()
        assert [r[0] for r in rows] == ["api:1", "api:2"]
        conn.execute("DROP TABLE releases")
    # The password is really checked over TCP.
    bad = postgres_server.dsn.replace(postgres_server.password, "wrong-password")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(bad, connect_timeout=10)


COMPOSE = """\
version: "3.8"
services:
  web:
    image: {image}
    stop_grace_period: 1s
    command:
      - sh
      - -c
      - mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www
  client:
    image: {image}
    stop_grace_period: 1s
    depends_on: [web]
    command:
      - sh
      - -c
      - for i in $$(seq 1 40); do wget -q -O - http://web:8080/ && exit 0; sleep 0.25; done; exit 1
"""


@pytest.mark.docker
@pytest.mark.compose
def test_compose_services_reach_each_other_by_name(
    docker_engine: DockerEngine, compose_cmd: list[str], tmp_path: Path
) -> None:
    (tmp_path / "docker-compose.yml").write_text(COMPOSE.format(image=docker_engine.base_image))
    project = f"shipittest{uuid.uuid4().hex[:8]}"
    base = [*compose_cmd, "--project-name", project, "--file", str(tmp_path / "docker-compose.yml")]
    env = docker_engine.env()
    try:
        up = subprocess.run(
            [*base, "up", "--abort-on-container-exit", "--exit-code-from", "client", "--no-color"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert up.returncode == 0, up.stdout + up.stderr
        assert "hello-from-web" in up.stdout
    finally:
        down = subprocess.run(
            [*base, "down", "--volumes", "--remove-orphans"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert down.returncode == 0, down.stderr
    leftover = docker_engine.client().container.list(all=True, filters=[("name", project)])
    assert leftover == []


@pytest.mark.pubsub
def test_pubsub_emulator_answers(pubsub_emulator: str) -> None:
    topic = f"http://{pubsub_emulator}/v1/projects/shipit-test/topics/releases"
    req = urllib.request.Request(topic, method="PUT", data=b"{}", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert json.loads(resp.read())["name"] == "projects/shipit-test/topics/releases"
    with urllib.request.urlopen(topic, timeout=30) as resp:
        assert resp.status == 200
