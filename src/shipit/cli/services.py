"""`shipit services deploy`: create or update the Cloud Run services (the services step on its own)."""

from __future__ import annotations

from typing import Any

import click

from shipit.cli import values
from shipit.cli._write_rate import write_rate_option
from shipit.cli.app import Application, Effect, effect, global_options, pass_app
from shipit.concurrency import API_CONCURRENCY


def _pairs(values: tuple[str, ...], option: str, example: str) -> tuple[tuple[str, str], ...]:
    from shipit.errors import UsageError

    out = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise UsageError(f"{option} {value!r}: expected NAME=VALUE", hint=f"e.g. {option} {example}")
        out.append((key, rest))
    return tuple(out)


@click.group()
def services() -> None:
    """Cloud Run services."""


@effect(Effect.REMOTE)
@services.command()
@click.argument("names", metavar="[SERVICE]...", nargs=-1)
@click.option("--image", "images", multiple=True, metavar="SERVICE=REF", help="Image to deploy (by digest).")
@click.option(
    "--secret-version",
    "secret_versions",
    multiple=True,
    metavar="KEY=N",
    callback=values.secret_versions,
    help="Pin a secret version.",
)
@click.option("--staged", is_flag=True, help="No traffic until the health check on the tagged URL passes.")
@click.option("--canary", type=click.IntRange(1, 99), metavar="PERCENT", help="Staged, then only PERCENT of traffic.")
@click.option(
    "--tag",
    default="candidate",
    show_default=True,
    callback=values.traffic_tag,
    help="Traffic tag of a staged revision.",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=API_CONCURRENCY, show_default=True, help="Parallel API calls."
)
@write_rate_option
@click.option("--dry-run", is_flag=True, help="Show the plan only.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@global_options
@pass_app
def deploy(
    app: Application,
    names: tuple[str, ...],
    images: tuple[str, ...],
    secret_versions: tuple[str, ...],
    staged: bool,
    canary: int | None,
    tag: str,
    concurrency: int,
    write_rate: int | None,
    dry_run: bool,
    yes: bool,
) -> None:
    """Deploy SERVICEs (default: all) to Cloud Run, equivalent to `gcloud run deploy` for each.

    Unchanged services are not touched (no new revision). Exit 1 if a revision fails; its traffic stays
    on the previous revision.
    """
    from shipit.cli._rollout import show_and_apply
    from shipit.pipeline import plan_step, record
    from shipit.steps import services as services_step
    from shipit.steps.context import RunOptions, StepContext

    image_pairs = _pairs(images, "--image", "api=us-central1-docker.pkg.dev/p/r/api@sha256:...")
    unknown = sorted({name for name, _ in image_pairs} - set(app.target.config.services))
    if unknown:
        from shipit.errors import UsageError

        known = ", ".join(app.target.config.services)
        raise UsageError(f"--image names unknown service(s): {', '.join(unknown)}", hint=f"services: {known}")
    options = RunOptions(dry_run=dry_run, yes=yes, concurrency=concurrency, images=image_pairs, write_rate=write_rate)
    ctx = StepContext(target=app.target, console=app.console, options=options)
    deploy_options = services_step.DeployOptions(
        services=names,
        secret_versions=_pairs(secret_versions, "--secret-version", "STRIPE_KEY=3"),
        staged=staged or canary is not None,
        canary=canary,
        tag=tag,
    )
    # Bad input first (exit 2 either way, but its message is the useful one), then no remote call without an answer.
    app.require_confirmation(yes=yes, dry_run=dry_run, action="deploy to Cloud Run")
    # Images, secret versions and Terraform outputs come from the state file or the live remote, as
    # the plan notes say (the same resolution as `shipit deploy --only services`).
    plan = plan_step(ctx, lambda: services_step.plan(ctx, deploy_options))

    def apply() -> dict[str, Any]:
        result = services_step.apply(ctx, plan)
        record(ctx, services_step.STEP, result)
        return {n: dict(r) for n, r in result.services.items()}

    show_and_apply(app, plan, apply, dry_run=dry_run, yes=yes)
