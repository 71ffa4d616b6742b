from __future__ import annotations

import click

from shipit.cli._write_rate import write_rate_option
from shipit.cli.app import Application, Effect, effect, global_options, jobs_option, pass_app
from shipit.cli.engine_option import engine_option


@effect(Effect.REMOTE)
@click.command()
@click.option("--only", multiple=True, metavar="STEPS", help="Only these steps (comma-separated).")
@click.option("--skip", multiple=True, metavar="STEPS", help="Skip these steps (comma-separated).")
@click.option("--dry-run", is_flag=True, help="Show the plan and stop.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (required when not on a TTY).")
@click.option("--staged", is_flag=True, help="New revisions get traffic only after their tagged URL is healthy.")
@click.option("--canary", type=click.IntRange(1, 99), metavar="PERCENT", help="Staged, then only PERCENT of traffic.")
@click.option("--image", "images", multiple=True, metavar="SERVICE=REF", help="Deploy this image (skips its build).")
@click.option(
    "--preview",
    metavar="NAME",
    help="Deploy the changed services as revisions with no traffic under the tag NAME (e.g. pr-123).",
)
@click.option(
    "--prune-oldest",
    type=click.IntRange(1, 1000),
    metavar="N",
    help="With --preview: first remove the N oldest other previews (Cloud Run limits tags and revisions).",
)
@jobs_option("image builds")
@engine_option()
@write_rate_option
@global_options
@pass_app
def deploy(
    app: Application,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    dry_run: bool,
    yes: bool,
    staged: bool,
    canary: int | None,
    images: tuple[str, ...],
    preview: str | None,
    prune_oldest: int | None,
    jobs: int,
    engine: str | None,
    write_rate: int | None,
) -> None:
    """Test, build, apply infra, push, sync secrets, migrate, deploy to Cloud Run and verify.

    Shows the whole plan first. Re-running a finished deploy changes nothing.
    Steps: test, build, infra, push, secrets, migrate, services, workers, jobs, verify.
    With --preview NAME: test, build, push, then preview (no infra, secrets, migrations, traffic).
    """
    from shipit.deployment import DeployOptions, run_deploy
    from shipit.localcheck import before_steps
    from shipit.pipeline import select_steps

    parsed = _parse_images(images)
    target = app.target  # a bad shipit.yaml is reported before anything else
    unknown = sorted({s for s, _ in parsed} - set(target.config.services))
    if unknown:
        from shipit.errors import UsageError

        raise UsageError(
            f"--image names unknown service(s): {', '.join(unknown)}",
            hint=f"services: {', '.join(target.config.services)}",
        )
    if preview is not None or prune_oldest is not None:
        _check_preview(app, preview, staged=staged, canary=canary, prune_oldest=prune_oldest)
    # Everything local first: no API or Docker call when the env file or a build context is wrong.
    if preview is not None:
        from shipit.preview_deployment import PreviewDeployOptions, preview_steps, run_preview

        before_steps(app.loaded, target, [s.name for s in preview_steps(only, skip)], images=parsed)
        app.require_confirmation(yes=yes, dry_run=dry_run, action="deploy a preview")
        run_preview(
            target,
            app.console,
            PreviewDeployOptions(
                preview,
                only,
                skip,
                dry_run,
                yes,
                images=parsed,
                jobs=jobs,
                prune_oldest=prune_oldest or 0,
                build_engine=engine,
                write_rate=write_rate,
            ),
            confirm=lambda question: app.confirm(question, yes=yes, action="deploy a preview"),
        )
        return
    before_steps(app.loaded, target, [s.name for s in select_steps(only, skip)], images=parsed)
    # Before the online plan: without a terminal the answer is known now, not after minutes of API calls.
    app.require_confirmation(yes=yes, dry_run=dry_run, action="deploy")
    options = DeployOptions(
        only=only,
        skip=skip,
        dry_run=dry_run,
        yes=yes,
        images=parsed,
        staged=staged,
        canary=canary,
        jobs=jobs,
        build_engine=engine,
        write_rate=write_rate,
    )
    run_deploy(
        target,
        app.console,
        options,
        confirm=lambda question: app.confirm(question, yes=yes, action="deploy"),
    )


def _check_preview(
    app: Application, preview: str | None, *, staged: bool, canary: int | None, prune_oldest: int | None
) -> None:
    from shipit.errors import UsageError
    from shipit.steps.preview import check_name

    if preview is None:
        raise UsageError("--prune-oldest goes with --preview NAME", hint="e.g. --preview pr-123 --prune-oldest 5")
    if staged or canary is not None:
        raise UsageError("--preview moves no traffic: --staged and --canary do not apply", hint="drop them")
    target = app.target
    if len(target.regions) > 1:
        # A preview is a tag on one Cloud Run service; a multi-region service is one per region, and a
        # load-balanced one refuses its run.app tag URLs from outside anyway.
        raise UsageError(
            f"--preview: {target.env_name} deploys to {len(target.regions)} regions ({', '.join(target.regions)}); "
            "previews are single-region",
            hint="preview in a single-region environment (-e ENV)",
        )
    services = [n for n, s in target.config.services.items() if s.kind == "service"]
    check_name(preview, services)


def _parse_images(items: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    from shipit.errors import UsageError

    pairs = []
    for item in items:
        service, sep, ref = item.partition("=")
        if not sep or not service or not ref:
            raise UsageError(
                f"--image {item!r} is not SERVICE=REF", hint="e.g. --image api=REGION-docker.pkg.dev/P/R/api@sha256:..."
            )
        pairs.append((service, ref))
    return tuple(pairs)
