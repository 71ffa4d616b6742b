"""`shipit deploy --preview NAME`: test, build and push as usual, then the preview step instead of the release.

Infra, secrets, migrations, services, worker pools, jobs and verify of the base environment are left alone:
the preview runs with the base's infrastructure and secret versions, and with the base's database unless
``preview.database`` is ``branch`` (then the preview step makes its own database, URL secret and migration).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from shipit.concurrency import BUILD_JOBS
from shipit.config import Target
from shipit.output import Console
from shipit.pipeline import StepSpec, confirm_and_apply, plan_all, plan_step, select_steps, show_plans
from shipit.steps.context import RunOptions, StepContext

PREVIEW_STEP = StepSpec("preview", "shipit.steps.preview", "deploy preview revisions (no traffic)")
# The steps of `shipit deploy` a preview runs before its own.
BEFORE = ("test", "build", "push")


@dataclass(frozen=True)
class PreviewDeployOptions:
    preview: str
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    dry_run: bool = False
    yes: bool = False
    images: tuple[tuple[str, str], ...] = ()
    jobs: int = BUILD_JOBS
    prune_oldest: int = 0
    build_engine: str | None = None  # --engine: local or cloudbuild
    write_rate: int | None = None  # Cloud Run Admin API writes per minute (None: the environment's setting)


def preview_steps(only: tuple[str, ...], skip: tuple[str, ...]) -> list[StepSpec]:
    """test, build, push (as --only/--skip select them), then the preview step unless skipped."""

    def names(items: tuple[str, ...]) -> set[str]:
        return {n.strip() for item in items for n in item.split(",") if n.strip()}

    wanted, unwanted = names(only), names(skip)
    others_only = tuple(sorted(wanted - {"preview"}))
    base = select_steps(others_only, tuple(sorted(unwanted - {"preview"}))) if others_only or not wanted else []
    steps = [s for s in base if s.name in BEFORE]
    if "preview" not in unwanted and (not wanted or "preview" in wanted):
        steps.append(PREVIEW_STEP)
    return steps


def run_preview(
    target: Target, console: Console, options: PreviewDeployOptions, confirm: Callable[[str], None] | None = None
) -> None:

    steps = preview_steps(options.only, options.skip)
    run_options = RunOptions(
        dry_run=options.dry_run,
        yes=options.yes,
        images=options.images,
        jobs=options.jobs,
        preview=options.preview,
        prune_oldest=options.prune_oldest,
        build_engine=options.build_engine,
        write_rate=options.write_rate,
    )
    ctx = StepContext(target, console, run_options)
    console.info(f"planning preview {options.preview} of {target.app} / {target.env_name} ({target.project})")
    planned = plan_all(ctx, steps)
    show_plans(ctx, planned)
    if options.dry_run:
        console.info("dry run: nothing was changed")
        return
    if not planned.has_changes and not options.prune_oldest:
        if PREVIEW_STEP in steps:
            module = PREVIEW_STEP.load()
            module.apply(ctx, planned.get("preview").plan or plan_step(ctx, partial(module.plan, ctx)))
        console.success(f"preview {options.preview}: no changes")
        console.event("done", changes=0)
        return
    question = f"deploy preview {options.preview} to {target.env_name} ({target.project})? (no traffic moves)"
    changes = confirm_and_apply(ctx, steps, planned, question=question, confirm=confirm)
    console.success(f"preview {options.preview} of {target.env_name}: {changes} change(s) applied")
