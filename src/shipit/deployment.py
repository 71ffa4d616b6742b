"""`shipit deploy`: the whole plan first, one confirmation, then every step in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shipit.concurrency import BUILD_JOBS
from shipit.config import Target
from shipit.errors import UsageError
from shipit.output import Console


@dataclass(frozen=True)
class DeployOptions:
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    dry_run: bool = False
    yes: bool = False
    images: tuple[tuple[str, str], ...] = ()
    staged: bool = False
    canary: int | None = None
    jobs: int = BUILD_JOBS  # parallel image builds and pushes
    build_engine: str | None = None  # --engine: local or cloudbuild
    write_rate: int | None = None  # Cloud Run Admin API writes per minute (None: the environment's setting)


def run_deploy(
    target: Target, console: Console, options: DeployOptions, confirm: Callable[[str], None] | None = None
) -> None:
    """``confirm(question)`` returns to go ahead and raises to stop; without it only --yes applies."""
    from shipit.pipeline import confirm_and_apply, plan_all, select_steps, show_plans
    from shipit.steps.context import RunOptions, StepContext

    steps = select_steps(options.only, options.skip)
    unknown = sorted({s for s, _ in options.images} - set(target.config.services))
    if unknown:
        raise UsageError(
            f"--image names unknown service(s): {', '.join(unknown)}",
            hint=f"services: {', '.join(target.config.services)}",
        )
    run_options = RunOptions(
        dry_run=options.dry_run,
        yes=options.yes,
        images=options.images,
        staged=options.staged or options.canary is not None,
        canary=options.canary,
        jobs=options.jobs,
        build_engine=options.build_engine,
        write_rate=options.write_rate,
    )
    ctx = StepContext(target, console, run_options)
    console.info(f"planning {target.app} / {target.env_name} ({target.project}, {target.region})")
    planned = plan_all(ctx, steps)
    show_plans(ctx, planned)
    if not planned.has_changes:
        console.success("no changes: everything is already deployed")
        console.event("done", changes=0)
        return
    if options.dry_run:
        console.info("dry run: nothing was changed")
        return
    changes = confirm_and_apply(
        ctx, steps, planned, question=f"deploy these changes to {target.env_name} ({target.project})?", confirm=confirm
    )
    console.success(f"deployed {target.app} to {target.env_name}: {changes} change(s) applied")
