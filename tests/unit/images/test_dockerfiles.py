"""Generated production Dockerfiles: valid, multi-stage, pinned-but-overridable bases, deps before sources,
non-root final stage, PORT honoured. Parsed with dockerfile-parse (and Docker's own Go parser when present)."""

from __future__ import annotations

import io
import re

import pytest

from shipit.contexthash import DockerIgnore
from shipit.render.dockerfiles import KINDS, DockerfileOptions, GeneratedFile, render

dockerfile_parse = pytest.importorskip("dockerfile_parse")


def _files(kind: str, **kw: object) -> dict[str, str]:
    return {f.path: f.text for f in render(DockerfileOptions(kind=kind, service="svc", port=8081, **kw))}  # type: ignore[arg-type]


def _instructions(text: str) -> list[dict[str, object]]:
    # An in-memory file: with a path (the default is the current directory) setting content writes a Dockerfile.
    parser = dockerfile_parse.DockerfileParser(fileobj=io.BytesIO(), cache_content=True)
    parser.content = text
    return [i for i in parser.structure if i["instruction"] != "COMMENT"]


def _stages(text: str) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for ins in _instructions(text):
        name, value = str(ins["instruction"]), str(ins["value"])
        if name == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((name, value))
    return stages


@pytest.mark.parametrize("kind", KINDS)
def test_structure(kind: str) -> None:
    text = _files(kind)["Dockerfile"]
    instructions = _instructions(text)
    assert instructions[0]["instruction"] == "ARG"  # base images are build args, declared before FROM
    base_args = {str(i["value"]).split("=")[0] for i in instructions if i["instruction"] == "ARG"}
    stages = _stages(text)
    assert len(stages) >= 2, "multi-stage"
    for stage in stages:
        image = stage[0][1].split()[0]
        assert re.fullmatch(r"\$\{(\w+)\}", image), f"FROM {image} is not overridable"
        assert image[2:-1] in base_args
    for default in [str(i["value"]).split("=", 1)[1] for i in instructions[:2] if i["instruction"] == "ARG"]:
        assert re.search(r":\d+\.\d+\.\d+", default), f"{default} is not pinned to an exact version"
    final = stages[-1]
    users = [v for n, v in final if n == "USER"]
    assert users and not users[-1].startswith(("0", "root")), "final stage must not run as root"
    assert any(n == "ENV" and "PORT=8081" in v for n, v in final)
    assert any(n == "EXPOSE" and v == "8081" for n, v in final)
    # Nothing is compiled or installed in the final stage: no RUN at all there.
    assert not [v for n, v in final if n == "RUN"]
    # Dependencies are installed before the sources are copied.
    build = stages[0]
    copies = [i for i, (n, v) in enumerate(build) if n == "COPY"]
    installs = [i for i, (n, v) in enumerate(build) if n == "RUN" and ("install" in v or "npm ci" in v)]
    source = next(i for i, (n, v) in enumerate(build) if n == "COPY" and v.startswith(". "))
    assert copies[0] < installs[0] < source


def test_python_serves_port_with_gunicorn() -> None:
    text = _files("python", app_module="app.main:app")["Dockerfile"]
    assert 'APP_MODULE="app.main:app"' in text
    cmd = next(i for i in _instructions(text) if i["instruction"] == "CMD")
    assert "0.0.0.0:$PORT" in str(cmd["value"]) and "uvicorn.workers.UvicornWorker" in str(cmd["value"])


def test_static_is_served_by_nginx_on_port() -> None:
    files = _files("static", build_dir="build")
    assert set(files) == {"Dockerfile", ".dockerignore", "nginx.conf.template"}
    assert "listen ${PORT};" in files["nginx.conf.template"]
    assert "try_files $uri $uri/ /index.html;" in files["nginx.conf.template"]
    assert 'ARG BUILD_DIR="build"' in files["Dockerfile"]
    stages = _stages(files["Dockerfile"])
    assert stages[-1][0][1].startswith("${NGINX_IMAGE}")
    assert ("COPY", "--from=build /out /usr/share/nginx/html") in stages[-1]


@pytest.mark.parametrize("kind", KINDS)
def test_dockerignore_keeps_secrets_and_junk_out(kind: str) -> None:
    ignore = DockerIgnore(_files(kind)[".dockerignore"].splitlines())
    for path in (".env", ".env.production", ".git/HEAD", "key.pem", ".shipit/images/prod.json"):
        assert ignore.excludes(path), path
    assert not ignore.excludes(".env.example")
    assert not ignore.excludes("src/main.py")
    assert not ignore.excludes("package.json")
    if kind == "python":
        assert ignore.excludes("pkg/__pycache__/m.cpython-312.pyc") and ignore.excludes(".venv/bin/python")
    else:
        assert ignore.excludes("node_modules/react/index.js") and ignore.excludes("packages/a/node_modules/x")
    if kind == "static":
        assert ignore.excludes("dist/index.html") and not ignore.excludes("nginx.conf.template")


@pytest.mark.parametrize("kind", KINDS)
def test_docker_go_parser_accepts_it(kind: str) -> None:
    dockerfile = pytest.importorskip("dockerfile")
    commands = dockerfile.parse_string(_files(kind)["Dockerfile"])
    assert sum(1 for c in commands if c.cmd.upper() == "FROM") >= 2


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        render(DockerfileOptions(kind="ruby", service="x"))


def test_generated_file_type() -> None:
    assert all(isinstance(f, GeneratedFile) for f in render(DockerfileOptions(kind="node", service="x")))
