"""The infra pipeline step: `terraform plan` of the environment, then apply of exactly that plan.

Result: :class:`shipit.results.InfraResult`, the non-sensitive Terraform outputs (the pipeline keeps
them in the state file; ``.shipit/infra/ENV/outputs.json`` also caches them for `shipit infra`).

In the release pipeline this step runs before push and secrets: Terraform owns the Artifact Registry
repository and the Secret Manager secret containers (DESIGN.md), so it must create them before shipit
writes images and secret versions into them. Without a Terraform root for the environment the step
plans nothing and says so: the services then deploy without infrastructure outputs.
"""

from __future__ import annotations

from typing import Any

from shipit.errors import UsageError
from shipit.infra.run import InfraRunner, infra_paths, load_outputs, scratch_runner
from shipit.plan import Action, Change, Plan
from shipit.results import InfraResult
from shipit.steps.context import StepContext

STEP = "infra"


def _cached(ctx: StepContext) -> dict[str, Any]:
    try:
        return load_outputs(ctx.target)
    except UsageError:
        return {}


def _preview(ctx: StepContext) -> Plan:
    """Offline: the resources the generated module declares, as if none existed yet (no terraform run)."""
    import re

    from shipit.render.terraform import render_infra

    changes = []
    for path, text in sorted(render_infra([ctx.target]).items()):
        if "/environments/" in f"/{path}":
            continue
        for kind, name in re.findall(r'^resource "([^"]+)" "([^"]+)"', text, flags=re.MULTILINE):
            changes.append(Change(STEP, Action.CREATE, f"{kind}.{name}", f"({path})"))
    notes = ["offline: resources of the module `shipit infra generate` writes; terraform plan itself needs credentials"]
    return Plan.of(STEP, changes, notes)


def plan(ctx: StepContext) -> Plan:
    root = infra_paths(ctx.target).root
    if ctx.target.config.infra.enabled is False:
        note = "infra.enabled is false: no Terraform runs; shipit creates what push and secrets need"
        return Plan.of(STEP, (), [note])
    if ctx.options.offline:
        return _preview(ctx)
    if not (root / "main.tf").is_file():
        return Plan.of(
            STEP,
            (),
            [f"no Terraform in {root} (run `shipit infra generate`); deploying without infrastructure outputs"],
        )
    if ctx.options.dry_run:  # `plan`, `deploy --dry-run`: nothing written into the project
        with scratch_runner(ctx.target, ctx.console, ctx.remote.terraform) as runner:
            return runner.plan()
    return InfraRunner(ctx.target, ctx.console, ctx.remote.terraform).plan()


def predict(ctx: StepContext, plan: Plan) -> InfraResult:
    # Outputs of the last apply; a pending plan may change some, which later steps then re-plan against.
    return InfraResult(_cached(ctx), pending=plan.has_changes)


def apply(ctx: StepContext, plan: Plan) -> InfraResult:
    if ctx.target.config.infra.enabled is False or not (infra_paths(ctx.target).root / "main.tf").is_file():
        return InfraResult(_cached(ctx))
    # The plan's changes carry the saved plan file: a new runner applies exactly that file.
    return InfraResult(InfraRunner(ctx.target, ctx.console, ctx.remote.terraform).apply(plan))
