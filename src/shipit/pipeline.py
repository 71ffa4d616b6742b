"""The release pipeline: test, build, infra, push, secrets, migrate, services, workers, jobs, verify.

Each step module exposes ``plan(ctx) -> Plan`` and ``apply(ctx, plan) -> result``, and may expose
``predict(ctx, plan) -> result``: what apply would return, so later steps can be planned before
anything is written (`shipit plan`, and the plan shown before `shipit deploy` asks to go on).

Results are typed values (:mod:`shipit.results`). The pipeline, and only the pipeline, keeps them in
``ctx.results`` for the later steps of the run and writes them to the environment's state file
(:mod:`shipit.state`) for later processes; steps read them through :func:`shipit.steps.resolver.earlier`,
and each plan notes where its inputs came from.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from shipit.errors import Interrupted, UsageError
from shipit.plan import Plan
from shipit.steps.context import StepContext


class StepModule(Protocol):
    def plan(self, ctx: StepContext) -> Plan: ...

    def apply(self, ctx: StepContext, plan: Plan) -> Any: ...


@dataclass(frozen=True)
class StepSpec:
    name: str
    module: str
    title: str
    # A gate runs only when a later step has something to do (tests guard a release; no release, no tests).
    gate: bool = False

    def load(self) -> StepModule:
        module: StepModule = importlib.import_module(self.module)
        return module


STEPS: tuple[StepSpec, ...] = (
    StepSpec("test", "shipit.steps.test", "run the tests", gate=True),
    StepSpec("build", "shipit.steps.build", "build images"),
    # Terraform owns the image repository and the secret containers: it creates them before shipit
    # pushes images and adds secret versions into them.
    StepSpec("infra", "shipit.steps.infra", "apply infrastructure"),
    StepSpec("push", "shipit.steps.push", "push images"),
    StepSpec("secrets", "shipit.steps.secrets", "sync secrets"),
    StepSpec("migrate", "shipit.steps.migrate", "run migrations"),
    StepSpec("services", "shipit.steps.services", "deploy Cloud Run services"),
    StepSpec("workers", "shipit.steps.workers", "deploy Cloud Run worker pools"),
    StepSpec("jobs", "shipit.steps.jobs", "deploy Cloud Run jobs"),
    StepSpec("verify", "shipit.steps.verify", "verify health"),
)
STEP_NAMES = tuple(s.name for s in STEPS)


def select_steps(only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[StepSpec]:
    """Steps in pipeline order; ``only``/``skip`` take names, comma lists allowed (`--only build,push`)."""
    wanted = {n.strip() for item in only for n in item.split(",") if n.strip()}
    unwanted = {n.strip() for item in skip for n in item.split(",") if n.strip()}
    for name in sorted(wanted | unwanted):
        if name not in STEP_NAMES:
            from shipit.config.checks import did_you_mean

            raise UsageError(
                f"unknown step '{name}'", hint=did_you_mean(name, STEP_NAMES) or f"steps: {', '.join(STEP_NAMES)}"
            )
    return [s for s in STEPS if (not wanted or s.name in wanted) and s.name not in unwanted]


@dataclass
class StepReport:
    name: str
    plan: Plan | None = None
    seconds: float = 0.0
    status: str = "pending"  # planned, applied, unchanged, skipped, failed


@dataclass
class PipelineReport:
    steps: list[StepReport] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(r.plan is not None and r.plan.has_changes for r in self.steps)

    def get(self, name: str) -> StepReport:
        return next(r for r in self.steps if r.name == name)


def plan_step(ctx: StepContext, plan: Callable[[], Plan]) -> Plan:
    """``plan()``, with notes saying where each earlier result it read came from."""
    from shipit.steps.resolver import source_notes

    ctx.sources.clear()
    made = plan()
    notes = [n for n in source_notes(ctx.sources) if n not in made.notes]
    ctx.sources.clear()
    return dataclasses.replace(made, notes=(*made.notes, *notes)) if notes else made


def record(ctx: StepContext, step: str, result: Any) -> None:
    """Keep a step's result for the rest of this run and, unless it is a dry run, in the state file."""
    ctx.results[step] = result
    # A preview's images are not the environment's: the state file keeps describing the base environment.
    if result is None or ctx.options.dry_run or ctx.options.preview or not getattr(result, "PERSIST", False):
        return
    from shipit.state import write_result

    write_result(ctx.target, result)


def plan_all(ctx: StepContext, steps: Sequence[StepSpec], *, events: bool = True) -> PipelineReport:
    """Every step's plan, later steps planned against earlier steps' predicted results. No writes.

    ``events``: emit plan events (deploy's JSON event stream); `shipit plan --json` prints one document instead.
    """
    report = PipelineReport()
    for spec in steps:
        started = time.monotonic()
        if events:
            ctx.console.event("plan_started", step=spec.name)
        module = spec.load()
        plan = plan_step(ctx, partial(module.plan, ctx))
        predict: Callable[[StepContext, Plan], Any] | None = getattr(module, "predict", None)
        if predict is not None:
            ctx.results[spec.name] = predict(ctx, plan)
        report.steps.append(StepReport(spec.name, plan, time.monotonic() - started, "planned"))
        if events:
            ctx.console.event("plan", step=spec.name, plan=plan.to_json())
    return report


def show_plans(ctx: StepContext, report: PipelineReport) -> None:
    for step in report.steps:
        if step.plan is None:
            continue
        for line in step.plan.render_lines(show_noop=ctx.console.verbose > 0):
            ctx.console.print(line)


def apply_all(ctx: StepContext, steps: Sequence[StepSpec], planned: PipelineReport) -> PipelineReport:
    """Apply each step in order, re-planning it first unless nothing before it changed (then its
    earlier plan was made against exactly these inputs)."""
    report = PipelineReport()
    later_changes = {
        spec.name: any(r.plan is not None and r.plan.has_changes for r in planned.steps[i + 1 :])
        for i, spec in enumerate(steps)
    }
    inputs_changed = False
    ctx.results.clear()
    for spec in steps:
        step = StepReport(spec.name)
        report.steps.append(step)
        if spec.gate and not later_changes[spec.name]:
            step.status = "skipped"
            ctx.console.event("step_skipped", step=spec.name, reason="nothing to release")
            continue
        started = time.monotonic()
        ctx.console.event("step_started", step=spec.name)
        ctx.console.info(f"==> {spec.name}: {spec.title}")
        module = spec.load()
        try:
            previous = planned.get(spec.name).plan
            plan = (
                previous if (previous is not None and not inputs_changed) else plan_step(ctx, partial(module.plan, ctx))
            )
            step.plan = plan
            record(ctx, spec.name, module.apply(ctx, plan))
        except KeyboardInterrupt:
            step.status = "failed"
            raise Interrupted(f"interrupted during {spec.name}; re-run to continue where it stopped") from None
        except Exception as exc:
            step.status = "failed"
            step.seconds = time.monotonic() - started
            ctx.console.event("error", step=spec.name, message=str(exc))
            raise
        step.seconds = time.monotonic() - started
        step.status = "applied" if plan.has_changes else "unchanged"
        inputs_changed = inputs_changed or plan.has_changes
        ctx.console.event(
            "step_finished",
            step=spec.name,
            status=step.status,
            seconds=round(step.seconds, 3),
            changes=len(plan.pending),
        )
    return report


def timing_table(ctx: StepContext, report: PipelineReport) -> None:
    rows = [(r.name, r.status, len(r.plan.pending) if r.plan else 0, f"{r.seconds:.1f}s") for r in report.steps]
    ctx.console.table(("step", "status", "changes", "time"), rows)


def confirm_and_apply(
    ctx: StepContext,
    steps: Sequence[StepSpec],
    planned: PipelineReport,
    *,
    question: str,
    confirm: Callable[[str], None] | None,
) -> int:
    """Ask (unless --yes), apply the planned steps, show their timings; the number of changes applied."""
    if not ctx.options.yes:
        if confirm is None:
            raise UsageError("deploy needs confirmation", hint="pass --yes to deploy without a prompt")
        confirm(question)
    report = apply_all(ctx, steps, planned)
    timing_table(ctx, report)
    changes = sum(len(r.plan.pending) for r in report.steps if r.plan is not None)
    ctx.console.event("done", changes=changes)
    return changes
