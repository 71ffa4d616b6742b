"""Write what `shipit init` detected: shipit.yaml (validated before it is written), Dockerfiles, .env.example."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from shipit.errors import UsageError
from shipit.init import Detection, InitAnswers, deploy_port, render_config, render_env_example
from shipit.writefile import write_generated


def _python_app_module(context: Path) -> str:
    for candidate, module in (("app/main.py", "app.main:app"), ("main.py", "main:app"), ("src/main.py", "main:app")):
        if (context / candidate).is_file():
            return module
    return "main:app"


def _check(text: str) -> None:
    """Validate before writing anything, so a bad answer (e.g. a project id) leaves no file behind."""
    from shipit.config import load_config
    from shipit.errors import ConfigError

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shipit.yaml"
        path.write_text(text)
        try:
            load_config(path, "shipit.yaml")
        except ConfigError as exc:
            problems = "; ".join(f"{i.path}: {i.message}" for i in exc.issues)
            answers = all(str(i.path).startswith(("app", "environments")) for i in exc.issues)
            raise UsageError(
                f"the {'answers give' if answers else 'compose project maps to'} an invalid shipit.yaml: {problems}",
                hint="pass --app/--project/--region with valid values"
                if answers
                else "change that in the compose file, or write shipit.yaml by hand from `shipit.yaml.example`",
            ) from None


def write_project(root: Path, detection: Detection, answers: InitAnswers, *, force: bool) -> Iterator[tuple[Path, str]]:
    from shipit.render.dockerfiles import DockerfileOptions, render

    config_path = root / "shipit.yaml"
    if config_path.exists() and not force:
        raise UsageError(f"{config_path} already exists", hint="pass --force to replace it")
    text = render_config(detection, answers)
    _check(text)
    yield config_path, write_generated(config_path, text, force=True)
    for svc in detection.services:
        if svc.kind not in ("python", "node", "static"):
            continue
        context = (root / svc.context).resolve()
        options = DockerfileOptions(
            kind=svc.kind, service=svc.name, port=deploy_port(svc), app_module=_python_app_module(context)
        )
        for generated in render(options):
            yield from _write_or_keep(context / generated.path, generated.text, force)
    if any(s.secrets for s in detection.services):
        yield from _write_or_keep(root / ".env.example", render_env_example(detection), force)


def _write_or_keep(path: Path, text: str, force: bool) -> Iterator[tuple[Path, str]]:
    try:
        yield path, write_generated(path, text, force=force)
    except UsageError:
        yield path, "kept"
