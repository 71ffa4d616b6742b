from __future__ import annotations

import sys

import click

from shipit.cli import values
from shipit.cli.app import Application, global_options, pass_app

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
    shipit local --runtime native    Postgres, Pub/Sub emulator and local.command processes, Ctrl-C stops all
    shipit local logs -f api         follow one service's logs
    shipit local export > compose.yaml
    """
    ctx.meta["shipit.local.runtime"] = runtime
    if ctx.invoked_subcommand is None:
        ctx.invoke(up, runtime=runtime)


def _selected(ctx: click.Context, runtime: str | None) -> str:
    return runtime or ctx.meta.get("shipit.local.runtime") or "docker"


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
) -> None:
    """Start the stack (docker: detached; native: in the foreground until Ctrl-C)."""
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


@local.command()
@click.option("--volumes", "volumes", is_flag=True, help="Also delete the database volumes.")
@global_options
@pass_app
@click.pass_context
def down(ctx: click.Context, app: Application, volumes: bool) -> None:
    """Stop and remove the stack's containers and network (volumes with --volumes)."""
    _docker_only(_selected(ctx, None), "down")
    from shipit.local.compose import down as compose_down

    compose_down(app.target, app.console, volumes=volumes)


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


@local.command()
@click.option("-f", "--follow", is_flag=True, help="Keep streaming new lines.")
@click.option("--tail", default="all", show_default=True, help="Lines from the end of each log.")
@click.argument("services", nargs=-1)
@pass_app
@click.pass_context
def logs(ctx: click.Context, app: Application, follow: bool, tail: str, services: tuple[str, ...]) -> None:
    """Show the logs of the stack, or of the named services (global options go before `local`: -f is --follow)."""
    _docker_only(_selected(ctx, None), "logs")
    from shipit.local.compose import logs as compose_logs

    compose_logs(app.target, app.console, services, follow=follow, tail=tail)


@local.command(name="exec", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("service")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_app
@click.pass_context
def exec_(ctx: click.Context, app: Application, service: str, command: tuple[str, ...]) -> None:
    """Run COMMAND in SERVICE's running container, e.g. `shipit local exec api alembic upgrade head`."""
    _docker_only(_selected(ctx, None), "exec")
    from shipit.local.compose import exec_ as compose_exec

    code = compose_exec(app.target, service, command, interactive=sys.stdin.isatty() and sys.stdout.isatty())
    if code:
        raise SystemExit(code)


@local.command()
@global_options
@pass_app
def export(app: Application) -> None:
    """Print the generated compose file (paths relative to shipit.yaml), to own it: `> compose.yaml`."""
    from shipit.local.compose import export as compose_export

    click.echo(compose_export(app.target), nl=False)
