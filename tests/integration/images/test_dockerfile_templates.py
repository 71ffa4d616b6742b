"""The generated Dockerfiles build on the real engine when their base-image args point at a local image.

python/node/nginx cannot be pulled here, so the bases are overridden (through the very build args the
templates expose) with a busybox image carrying tiny stand-ins for python, pip and npm. That proves the
multi-stage wiring: what each stage produces, what reaches the final stage, the user and the port.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from engines.docker import DockerEngine
from shipit.adapters.docker import BuildSpec, Docker
from shipit.render.dockerfiles import DockerfileOptions, render

from .conftest import Project

pytestmark = pytest.mark.docker

PYTHON = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin" && cp /usr/local/bin/pip "$3/bin/pip"; exit 0; fi
echo "python $*"
"""
PIP = """#!/bin/sh
mkdir -p /opt/venv/lib && cat requirements.txt > /opt/venv/lib/installed.txt
"""
NPM = """#!/bin/sh
case "$1" in
  ci|install) mkdir -p node_modules/dep node_modules/devdep && echo dep > node_modules/dep/index.js ;;
  run) [ "$2" = build ] && mkdir -p dist && echo '<h1>built</h1>' > dist/index.html ;;
  prune) rm -rf node_modules/devdep ;;
esac
"""


@pytest.fixture(scope="module")
def toolbox(docker_engine: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("toolbox")
    for name, text in (("python", PYTHON), ("pip", PIP), ("npm", NPM)):
        (context / name).write_text(text)
        (context / name).chmod(0o755)
    (context / "Dockerfile").write_text("FROM busybox\nCOPY python pip npm /usr/local/bin/\n")
    tag = f"shipit-test/toolbox:{uuid.uuid4().hex[:8]}"
    outcome = Docker(env=docker_engine.env_overrides()).build(
        BuildSpec(context=context, dockerfile=context / "Dockerfile", tags=(tag,)), lambda _line: None
    )
    assert outcome.ok, "\n".join(outcome.log)
    yield tag
    Docker(env=docker_engine.env_overrides()).remove(tag)


def _build(project: Project, context: Path, kind: str, toolbox: str, **options: str) -> str:
    for generated in render(DockerfileOptions(kind=kind, service="svc", port=9090, **options)):  # type: ignore[arg-type]
        (context / generated.path).write_text(generated.text)
    args = {"python": ("PYTHON_IMAGE",), "node": ("NODE_IMAGE",), "static": ("NODE_IMAGE", "NGINX_IMAGE")}[kind]
    tag = f"{project.host}/test-proj/{project.repository}/{kind}:t"
    engine = Docker(env=project.docker.env_overrides())
    lines: list[str] = []
    outcome = engine.build(
        BuildSpec(context, context / "Dockerfile", (tag,), args=tuple((a, toolbox) for a in args)), lines.append
    )
    assert outcome.ok, "\n".join(lines)
    return tag


def _inspect(project: Project, ref: str, template: str) -> str:
    return project.docker_cli("image", "inspect", "--format", template, ref).stdout.strip()


def test_python_template(project: Project, toolbox: str, tmp_path: Path) -> None:
    context = tmp_path / "py"
    (context / "app").mkdir(parents=True)
    (context / "requirements.txt").write_text("fastapi\ngunicorn\nuvicorn\n")
    (context / "app" / "main.py").write_text("app = object()\n")
    (context / ".env").write_text("SECRET=never-in-the-image\n")
    (context / "__pycache__").mkdir()
    (context / "__pycache__" / "x.pyc").write_text("junk")
    ref = _build(project, context, "python", toolbox, app_module="app.main:app")
    out = project.run_image(ref, "sh", "-c", "id -u; cat /opt/venv/lib/installed.txt; ls -A /app; echo $PORT")
    uid, *rest = out.split()
    assert uid == "10001"
    assert {"fastapi", "gunicorn", "uvicorn"} <= set(rest)
    assert "app" in rest and "requirements.txt" in rest
    assert ".env" not in rest and "__pycache__" not in rest and "Dockerfile" not in rest
    assert rest[-1] == "9090"
    assert _inspect(project, ref, "{{.Config.User}}") == "10001:10001"
    assert "9090/tcp" in _inspect(project, ref, "{{json .Config.ExposedPorts}}")


def test_node_template(project: Project, toolbox: str, tmp_path: Path) -> None:
    context = tmp_path / "node"
    (context / "node_modules" / "local-junk").mkdir(parents=True)
    (context / "package.json").write_text('{"name": "svc", "scripts": {"start": "node server.js"}}\n')
    (context / "server.js").write_text("console.log('hi')\n")
    ref = _build(project, context, "node", toolbox)
    out = project.run_image(ref, "sh", "-c", "id -u; ls /app /app/node_modules; echo $NODE_ENV $PORT")
    assert out.split()[0] == "1000"
    assert "server.js" in out and "dep" in out.split()
    assert "devdep" not in out.split() and "local-junk" not in out.split()  # pruned; the host's never sent
    assert out.split()[-2:] == ["production", "9090"]


def test_static_template(project: Project, toolbox: str, tmp_path: Path) -> None:
    context = tmp_path / "web"
    (context / "src").mkdir(parents=True)
    (context / "package.json").write_text('{"name": "web", "scripts": {"build": "vite build"}}\n')
    (context / "src" / "main.js").write_text("export {}\n")
    ref = _build(project, context, "static", toolbox)
    out = project.run_image(
        ref, "sh", "-c", "id -u; cat /usr/share/nginx/html/index.html; ls /etc/nginx/templates; ls /app || true"
    )
    lines = out.split("\n")
    assert lines[0] == "101"
    assert lines[1] == "<h1>built</h1>"
    assert lines[2] == "default.conf.template"
    assert "main.js" not in out and "node_modules" not in out  # no sources, no node in the final image
