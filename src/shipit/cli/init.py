from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app

if TYPE_CHECKING:
    from shipit.init import Detection, Finding


@effect(Effect.WRITES)
@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--app", "app_name", help="App name (default: the directory's name).")
@click.option("--project", help="Google Cloud project id of the first environment.")
@click.option("--region", default="us-central1", show_default=True)
@click.option("--yes", "-y", is_flag=True, help="Accept every default; no questions.")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@click.option("--dry-run", is_flag=True, help="Say which files would be written; write nothing.")
@global_options
@pass_app
def init(
    app: Application,
    directory: Path,
    app_name: str | None,
    project: str | None,
    region: str,
    yes: bool,
    force: bool,
    dry_run: bool,
) -> None:
    """Detect the stack in DIRECTORY and write shipit.yaml, production Dockerfiles, .dockerignore, .env.example.

    -e/--env names the first environment (default: staging).
    """
    import contextlib

    from shipit.errors import UsageError
    from shipit.init import InitAnswers, answer_findings, detect, service_name
    from shipit.initwrite import write_project
    from shipit.writefile import preview

    if app.options.file:
        raise UsageError("init writes DIRECTORY/shipit.yaml: -f/--file does not apply", hint="pass DIRECTORY instead")
    env_name = app.options.env or "staging"
    root = directory.resolve()
    detection = detect(root)
    if not detection.services:
        seen = "; ".join(f"{f.subject}: {f.detail}" for f in detection.findings if "." not in f.subject)
        raise UsageError(
            f"found nothing to deploy in {root}" + (f" ({detection.source} has {seen})" if seen else ""),
            hint="expected a service with build: or image: in a compose file, or a package.json, pyproject.toml "
            "or requirements.txt",
        )
    default_app = service_name(detection.app_name or root.name)[:20].rstrip("-")
    ask = not yes and not dry_run and app.can_prompt
    for svc in detection.services:
        app.console.info(f"found service {svc.name} ({svc.kind}) in {svc.context} via {detection.source}")
    given = {
        name for name, value in (("app", app_name), ("project", project), ("environment", app.options.env)) if value
    }
    source = click.get_current_context().get_parameter_source("region")
    given |= {"region"} if source is not None and source.name != "DEFAULT" else set()
    app_name = app_name or (click.prompt("app name", default=default_app) if ask else default_app)
    default_project = f"{app_name}-{env_name}"[:30].rstrip("-")
    project = project or (click.prompt("Google Cloud project id", default=default_project) if ask else default_project)
    if ask:
        region = click.prompt("region", default=region)
        given |= {"app", "project", "region"}
    answers = InitAnswers(app=app_name, project=project, region=region, environment=env_name)
    files: dict[str, str] = {}
    with preview() if dry_run else contextlib.nullcontext():
        for path, result in write_project(root, detection, answers, force=force):
            files[app.display_path(path)] = result
            if result == "kept":
                app.console.warn(f"kept existing {app.display_path(path)} (pass --force to replace it)")
            else:
                app.console.success(f"{result} {app.display_path(path)}")
    findings = [*detection.findings, *answer_findings(answers, given=given, from_compose=bool(detection.app_name))]
    _report(app, detection, findings)
    app.console.emit(
        {
            "directory": app.display_path(root),
            "files": files,
            "dry_run": dry_run,
            "findings": [vars(f) for f in findings],
        }
    )
    if dry_run:
        app.console.info("dry run: nothing written")
        return
    app.console.info("next: `shipit validate`, then `shipit local up` or `shipit plan`")


def _report(app: Application, detection: Detection, findings: list[Finding]) -> None:
    """The table of what init mapped, guessed and dropped, then what the user must decide."""
    from shipit.init import report_rows

    app.console.table(("", "what", "how"), report_rows(findings), title=f"shipit init: what {detection.source} became")
    decisions = [f for f in findings if f.status == "decide"]
    if decisions:
        app.console.warn(f"decide ({len(decisions)}): shipit could not tell these from the compose project")
        for finding in decisions:
            app.console.info(f"  decide: {finding.subject}: {finding.detail}")
