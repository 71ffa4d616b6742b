"""The infra pipeline step: `terraform plan` of the environment, then apply of exactly that plan.

``ctx.results["infra"]`` receives the non-sensitive Terraform outputs (also cached in
``.shipit/infra/ENV/outputs.json`` for later runs).
"""

from __future__ import annotations

from typing import Any

from shipit.infra.run import InfraRunner
from shipit.plan import Plan
from shipit.steps.context import StepContext


def plan(ctx: StepContext) -> Plan:
    return InfraRunner(ctx.target, ctx.console).plan()


def apply(ctx: StepContext, plan: Plan) -> dict[str, Any]:
    # The plan's changes carry the saved plan file: a new runner applies exactly that file.
    outputs = InfraRunner(ctx.target, ctx.console).apply(plan)
    ctx.results["infra"] = outputs
    return outputs
