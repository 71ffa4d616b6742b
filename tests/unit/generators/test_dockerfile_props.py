"""Property: whatever `shipit dockerfile --app-module/--build-dir` is given, the value is either refused
or lands in the Dockerfile unchanged as one ENV/ARG value (no extra instruction, ever)."""

from __future__ import annotations

import io
from pathlib import Path

import dockerfile_parse
import pytest
from generator_props import PROPERTY, hostile_text
from hypothesis import given

from cli_runner import invoke
from shipit import values
from shipit.render.dockerfiles import DockerfileOptions, render


def _parse(text: str) -> dockerfile_parse.DockerfileParser:
    parser = dockerfile_parse.DockerfileParser(fileobj=io.BytesIO(), cache_content=True)
    parser.content = text
    return parser


def _instructions(text: str) -> list[str]:
    return [str(i["instruction"]) for i in _parse(text).structure if i["instruction"] != "COMMENT"]


_BASELINE = {
    kind: _instructions(render(DockerfileOptions(kind=kind, service="svc"))[0].text) for kind in ("python", "static")
}


@PROPERTY
@given(hostile_text)
def test_app_module_is_refused_or_round_trips(value: str) -> None:
    try:
        values.python_app(value)
    except values.InvalidValue as exc:
        assert "\n" not in str(exc)
        with pytest.raises(values.InvalidValue):
            render(DockerfileOptions(kind="python", service="svc", app_module=value))
        return
    text = render(DockerfileOptions(kind="python", service="svc", app_module=value))[0].text
    assert _instructions(text) == _BASELINE["python"]
    parser = _parse(text)
    # The runtime stage's ENV is the last one dockerfile-parse reports.
    assert parser.envs["APP_MODULE"] == value


@PROPERTY
@given(hostile_text)
def test_build_dir_is_refused_or_round_trips(value: str) -> None:
    try:
        normalized = values.relative_dir(value)
    except values.InvalidValue as exc:
        assert "\n" not in str(exc)
        with pytest.raises(values.InvalidValue):
            render(DockerfileOptions(kind="static", service="svc", build_dir=value))
        return
    files = {f.path: f.text for f in render(DockerfileOptions(kind="static", service="svc", build_dir=value))}
    assert _instructions(files["Dockerfile"]) == _BASELINE["static"]
    parser = _parse(files["Dockerfile"])
    build_args = [
        str(i["value"]) for i in parser.structure if i["instruction"] == "ARG" and "BUILD_DIR" in str(i["value"])
    ]
    assert build_args == [f'BUILD_DIR="{normalized}"']
    assert normalized in files[".dockerignore"].splitlines()
    assert ".." not in normalized.split("/") and not normalized.startswith("/")


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--app-module", "main:app\nRUN touch /pwned"),
        ("--build-dir", "dist\nRUN touch /pwned"),
        ("--build-dir", "../../etc"),
        ("--build-dir", "/abs"),
        ("--app-module", "$(id)"),
    ],
)
def test_dockerfile_command_refuses_injection(
    flag: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path
    (root / "backend").mkdir()
    (root / "shipit.yaml").write_text(
        "version: 1\napp: acme\nenvironments: {staging: {project: acme-staging, region: us-central1}}\n"
        "services: {api: {build: {context: ./backend}}}\n"
    )
    kind = "python" if flag == "--app-module" else "static"
    monkeypatch.chdir(root)
    result = invoke("dockerfile", "api", "--kind", kind, flag, value)
    assert result.exit_code == 2, result.output
    assert flag in result.output and "\n" not in result.output.strip()
    assert not (root / "backend" / "Dockerfile").exists()
