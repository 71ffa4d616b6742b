from __future__ import annotations

from pathlib import Path

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


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
    from shipit.init import InitAnswers, detect, service_name
    from shipit.initwrite import write_project
    from shipit.writefile import preview

    if app.options.file:
        raise UsageError("init writes DIRECTORY/shipit.yaml: -f/--file does not apply", hint="pass DIRECTORY instead")
    env_name = app.options.env or "staging"
    root = directory.resolve()
    detection = detect(root)
    if not detection.services:
        raise UsageError(
            f"found nothing to deploy in {root}",
            hint="expected a docker-compose.yml, package.json, pyproject.toml or requirements.txt",
        )
    default_app = service_name(root.name)[:20].rstrip("-")
    ask = not yes and not dry_run and app.can_prompt
    for svc in detection.services:
        app.console.info(f"found service {svc.name} ({svc.kind}) in {svc.context} via {detection.source}")
    app_name = app_name or (click.prompt("app name", default=default_app) if ask else default_app)
    default_project = f"{app_name}-{env_name}"[:30].rstrip("-")
    project = project or (click.prompt("Google Cloud project id", default=default_project) if ask else default_project)
    if ask:
        region = click.prompt("region", default=region)
    answers = InitAnswers(app=app_name, project=project, region=region, environment=env_name)
    files: dict[str, str] = {}
    with preview() if dry_run else contextlib.nullcontext():
        for path, result in write_project(root, detection, answers, force=force):
            files[app.display_path(path)] = result
            if result == "kept":
                app.console.warn(f"kept existing {app.display_path(path)} (pass --force to replace it)")
            else:
                app.console.success(f"{result} {app.display_path(path)}")
    app.console.emit({"directory": app.display_path(root), "files": files, "dry_run": dry_run})
    if dry_run:
        app.console.info("dry run: nothing written")
        return
    app.console.info("next: `shipit validate`, then `shipit local up` or `shipit plan`")
