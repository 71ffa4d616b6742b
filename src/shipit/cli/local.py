from __future__ import annotations

import sys

import click

from shipit.cli import values
from shipit.cli.app import Application, Effect, effect, global_options, pass_app

RUNTIMES = click.Choice(["docker", "native"])


def _docker_only(runtime: str, verb: str) -> None:
    from shipit.errors import UsageError

    if runtime != "docker":
        raise UsageError(
            f"`shipit local {verb}` is for the docker runtime",
            hint="the native runtime runs in the foreground of `shipit local --runtime native up`: press Ctrl-C there",
        )


@click.group(invoke_without_command=True)
@click.option("--runtime", type=RUNTIMES, default=None, help="docker (compose, default) or native (local processes).")
@global_options
@click.pass_context
def local(ctx: click.Context, runtime: str | None) -> None:
    """Run the whole stack on this machine from shipit.yaml (compose, or native processes).

    \b
    shipit local up                  build, start, wait until healthy, print URLs
    shipit local --runtime native    Postgres/MariaDB, Pub/Sub emulator, local.command processes; Ctrl-C stops all
    shipit local logs -f api         follow one service's logs
    shipit local export > compose.yaml
    """
    ctx.meta["shipit.local.runtime"] = runtime
    if ctx.invoked_subcommand is None:
        ctx.invoke(up, runtime=runtime)


def _selected(ctx: click.Context, runtime: str | None) -> str:
    return runtime or ctx.meta.get("shipit.local.runtime") or "docker"


@effect(Effect.WRITES)
@local.command()
@click.option("--runtime", type=RUNTIMES, default=None, help="docker (default) or native.")
@click.option("--build/--no-build", default=True, show_default=True, help="Rebuild images before starting.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until every service is healthy.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True, max=86400),
    callback=values.finite,
    default=None,
    help="Seconds to wait (default: longest health.timeout).",
)
@click.option("--dry-run", is_flag=True, help="Print the compose file it would run; write and start nothing.")
@global_options
@pass_app
@click.pass_context
def up(
    ctx: click.Context,
    app: Application,
    runtime: str | None,
    build: bool = True,
    wait: bool = True,
    timeout: float | None = None,
    dry_run: bool = False,
) -> None:
    """Start the stack (docker: detached; native: in the foreground until Ctrl-C)."""
    if dry_run:
        _show_compose(app, "dry run: nothing written or started")
        return
    if _selected(ctx, runtime) == "native":
        from shipit.local.native import run_native

        code = run_native(app.target, app.console)
        if code:
            raise SystemExit(code)
        return
    from shipit.local.compose import UpOptions
    from shipit.local.compose import up as compose_up

    statuses = compose_up(app.target, app.console, UpOptions(build=build, wait=wait, timeout=timeout))
    app.console.emit({"services": [s.__dict__ for s in statuses]})
    app.console.success("the stack is up" + (" and healthy" if wait else ""))
    app.console.table(("service", "state", "url"), [(s.service, s.state, s.url or "-") for s in statuses])


@effect(Effect.DELETES)
@local.command()
@click.option("--volumes", "volumes", is_flag=True, help="Also delete the database volumes (asks first).")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("-y", "--yes", is_flag=True, help="Delete volumes without asking (required when not on a TTY).")
@global_options
@pass_app
@click.pass_context
def down(ctx: click.Context, app: Application, volumes: bool, dry_run: bool, yes: bool) -> None:
    """Stop and remove the stack's containers and network (volumes with --volumes)."""
    _docker_only(_selected(ctx, None), "down")
    from shipit.local.compose import down as compose_down
    from shipit.local.compose import prepare

    # Containers come back with `up`; the database volumes hold data that does not.
    if volumes:
        app.require_confirmation(yes=yes, dry_run=dry_run, action="delete the database volumes")
    project = prepare(app.target, strict_secrets=False).project_name
    if dry_run:
        what = "containers, network and volumes" if volumes else "containers and network"
        app.console.emit({"project": project, "volumes": volumes, "dry_run": True})
        app.console.info(f"dry run: would stop and remove the {what} of {project}; nothing removed")
        return
    if volumes:
        app.confirm(f"Delete the database volumes of {project}?", yes=yes, action="delete the database volumes")

    compose_down(app.target, app.console, volumes=volumes)
    app.console.emit({"project": project, "volumes": volumes, "dry_run": False})


@effect(Effect.READ)
@local.command()
@global_options
@pass_app
@click.pass_context
def ps(ctx: click.Context, app: Application) -> None:
    """The stack's containers, their state and local URLs."""
    _docker_only(_selected(ctx, None), "ps")
    from shipit.local.compose import ps as compose_ps

    statuses = compose_ps(app.target)
    app.console.emit({"services": [s.__dict__ for s in statuses]})
    app.console.table(("service", "state", "url"), [(s.service, s.state, s.url or "-") for s in statuses])


@effect(Effect.READ)
@local.command()
@click.option("-f", "--follow", is_flag=True, help="Keep streaming new lines.")
@click.option("--tail", default="all", show_default=True, help="Lines from the end of each log.")
@click.argument("services", nargs=-1)
@global_options(file=False)
@pass_app
@click.pass_context
def logs(ctx: click.Context, app: Application, follow: bool, tail: str, services: tuple[str, ...]) -> None:
    """Show the logs of the stack, or of the named services (-f is --follow here: -f FILE goes before `local`)."""
    _docker_only(_selected(ctx, None), "logs")
    from shipit.local.compose import logs as compose_logs

    compose_logs(app.target, app.console, services, follow=follow, tail=tail)


@effect(Effect.READ)  # runs the user's command; shipit itself changes nothing
@local.command(name="exec", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("service")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@global_options
@pass_app
@click.pass_context
def exec_(ctx: click.Context, app: Application, service: str, command: tuple[str, ...]) -> None:
    """Run COMMAND in SERVICE's running container, e.g. `shipit local exec api alembic upgrade head`.

    Global options go before SERVICE: everything after it is the command.
    """
    _docker_only(_selected(ctx, None), "exec")
    from shipit.local.compose import exec_ as compose_exec

    code = compose_exec(app.target, service, command, interactive=sys.stdin.isatty() and sys.stdout.isatty())
    if code:
        raise SystemExit(code)


@effect(Effect.READ)
@local.command()
@global_options
@pass_app
def export(app: Application) -> None:
    """Print the generated compose file (paths relative to shipit.yaml), to own it: `> compose.yaml`."""
    _show_compose(app, None)


def _show_compose(app: Application, note: str | None) -> None:
    """The compose file (paths relative to shipit.yaml): as text, or as {"compose": TEXT} with --json."""
    from shipit.local.compose import export as compose_export

    text = compose_export(app.target)
    app.console.emit({"compose": text, "environment": app.target.env_name})
    if not app.options.json:
        click.echo(text, nl=False)
    if note:
        app.console.info(note)
