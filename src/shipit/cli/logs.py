"""`shipit logs`: read or follow the Cloud Logging entries of services, worker pools and job executions."""

from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app

_SEVERITY = click.Choice(
    ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"), case_sensitive=False
)


@effect(Effect.READ)
@click.command()
@click.argument("names", metavar="[SERVICE]...", nargs=-1)
@click.option("--since", default="1h", show_default=True, help="How far back: 10m, 2h, 1d, or an RFC 3339 time.")
@click.option("-F", "--follow", is_flag=True, help="Keep printing new entries until Ctrl-C.")
@click.option("--revision", metavar="REVISION", help="Only this revision's entries.")
@click.option("--severity", type=_SEVERITY, help="Only entries at this severity or above.")
@click.option("--job", metavar="JOB", help="A Cloud Run job: the logs of its latest execution (or --execution).")
@click.option("--execution", metavar="EXECUTION", help="With --job: this execution instead of the latest.")
@click.option("-n", "--limit", type=click.IntRange(1, 10_000), default=200, show_default=True, help="Entries to show.")
@click.option(
    "--poll-interval",
    type=click.FloatRange(0.5, 60),
    default=2.0,
    show_default=True,
    help="With --follow: seconds between reads (Cloud Logging allows 60 reads a minute per project).",
)
@global_options
@pass_app
def logs(
    app: Application,
    names: tuple[str, ...],
    since: str,
    follow: bool,
    revision: str | None,
    severity: str | None,
    job: str | None,
    execution: str | None,
    limit: int,
    poll_interval: float,
) -> None:
    """Log entries of services (default: all), worker pools, or a job execution; secret values masked.

    Lines are prefixed with the workload's name; --json prints one entry per line.
    """
    from shipit.logs.command import LogsOptions, run_logs
    from shipit.remote import Remote

    options = LogsOptions(
        names=names,
        since=since,
        follow=follow,
        revision=revision,
        severity=severity.upper() if severity else None,
        job=job,
        execution=execution,
        limit=limit,
        poll_interval=poll_interval,
    )
    run_logs(app.target, app.console, options, Remote(app.target))
