"""Who creates the Artifact Registry repository and the Secret Manager secret containers: one owner each.

With infrastructure enabled, the generated Terraform module declares both, so shipit never creates them:
if one is missing, push and secrets stop with "run `shipit infra apply` first" (had shipit created it, the
next `terraform apply` would fail on a resource that already exists). Inside a `shipit deploy` whose infra
step is about to apply, they are planned as created by that step. Without infrastructure shipit creates
them itself and says so in the plan.

``infra.enabled`` in shipit.yaml decides; when unset, infrastructure is enabled for an environment once its
Terraform root exists (``shipit infra generate`` wrote it), which is also when the infra step runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shipit.errors import ShipitError
from shipit.steps.infra_outputs import outputs_pending

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.steps.context import StepContext


class MissingInfraError(ShipitError):
    """A resource Terraform owns does not exist yet (exit 1: the remote state, not the input, is wrong)."""


def terraform_owns(target: Target) -> bool:
    """Whether the Terraform module owns the repository and the secret containers of this environment."""
    enabled = target.config.infra.enabled
    if enabled is not None:
        return enabled
    from shipit.infra.run import infra_paths

    return (infra_paths(target).root / "main.tf").is_file()


def infra_creates_in_this_run(ctx: StepContext) -> bool:
    """Whether an earlier step of this run (infra, with pending changes) applies before this one."""
    outputs = ctx.results.get("infra")
    return isinstance(outputs, dict) and outputs_pending(outputs)


def missing_error(target: Target, what: str, names: Sequence[str]) -> MissingInfraError:
    listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    verb = "does" if len(names) == 1 else "do"
    return MissingInfraError(
        f"{what} {listed} {verb} not exist: run `shipit infra apply -e {target.env_name}` first",
        hint="Terraform owns it (infra.enabled); set infra.enabled: false to let shipit create it instead",
    )
