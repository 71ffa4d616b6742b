"""`shipit dockerfile SERVICE --kind python|node|static`: write a production Dockerfile and .dockerignore."""

from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@effect(Effect.WRITES)
@click.command()
@click.argument("service")
@click.option("--kind", type=click.Choice(["python", "node", "static"]), required=True, help="The service's stack.")
@click.option("--app-module", default="main:app", show_default=True, help="python: the ASGI app to serve.")
@click.option("--build-dir", default="dist", show_default=True, help="static: the directory `npm run build` writes.")
@click.option("--dry-run", is_flag=True, help="Print the files instead of writing them.")
@click.option("--force", is_flag=True, help="Overwrite existing files that differ.")
@global_options
@pass_app
def dockerfile(
    app: Application, service: str, kind: str, app_module: str, build_dir: str, dry_run: bool, force: bool
) -> None:
    """Write a production multi-stage Dockerfile and .dockerignore into SERVICE's build context.

    \b
    python: virtualenv built in one stage, gunicorn + uvicorn workers in a slim final stage
    node:   npm ci, optional build, dev dependencies pruned, `npm start`
    static: npm run build, then the files served by unprivileged nginx (also writes nginx.conf.template)
    All: pinned base images overridable by build args, dependencies before sources, non-root, $PORT.
    """
    from shipit import values
    from shipit.errors import UsageError
    from shipit.render.dockerfiles import DockerfileOptions, render
    from shipit.steps.images import display_path, select_services
    from shipit.writefile import preview, write_generated

    # Before anything else: these values land in the Dockerfile (a newline would add an instruction).
    app_module = values.checked("--app-module", values.python_app, app_module)
    build_dir = values.checked("--build-dir", values.relative_dir, build_dir)
    target = app.target
    select_services(target, [service])
    config = target.config.services[service]
    if config.build is None:
        raise UsageError(f"service '{service}' has no build section (it uses image: {config.image})")
    context = target.path(config.build.context)
    if not context.is_dir():
        raise UsageError(
            f"{target.config_file}: services.{service}.build.context: directory "
            f"{display_path(target, context)} does not exist",
            hint="create it or fix the path",
        )
    files = render(
        DockerfileOptions(kind=kind, service=service, port=config.port, app_module=app_module, build_dir=build_dir)
    )
    dockerfile_name = config.build.dockerfile or "Dockerfile"
    written: dict[str, str] = {}
    contents: dict[str, str] = {}
    for generated in files:
        name = dockerfile_name if generated.path == "Dockerfile" else generated.path
        path = context / name
        shown = display_path(target, path)
        if dry_run:
            with preview():
                written[shown] = write_generated(path, generated.text, force=force)
            contents[shown] = generated.text
            app.console.print(f"# ---- {shown} ({written[shown]})")
            app.console.print(generated.text.rstrip("\n"))
            continue
        status = write_generated(path, generated.text, force=force)
        written[shown] = status
        app.console.success(f"{status}: {shown}")
    document: dict[str, object] = {"service": service, "kind": kind, "files": written, "dry_run": dry_run}
    if dry_run:
        document["contents"] = contents
    app.console.emit(document)
    if not dry_run and kind == "python":
        app.console.info("make sure requirements.txt lists gunicorn and uvicorn")
