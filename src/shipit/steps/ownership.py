"""Who creates the Artifact Registry repository and the Secret Manager secret containers: one owner each.

With infrastructure enabled, the generated Terraform module declares both, so shipit never creates them:
if one is missing, push and secrets stop with "run `shipit infra apply` first" (had shipit created it, the
next `terraform apply` would fail on a resource that already exists). Inside a `shipit deploy` whose infra
step is about to apply, they are planned as created by that step. Without infrastructure shipit creates
them itself and says so in the plan.

``infra.enabled`` in shipit.yaml decides; when unset, Terraform owns a kind of resource once the environment's
Terraform root exists (``shipit infra generate`` wrote it; the infra step then runs) and the Terraform under
``infra.dir`` declares that resource type, as the generated module does. A hand-written Terraform that does
not declare them leaves them to shipit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shipit.errors import ShipitError
from shipit.results import InfraResult

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.steps.context import StepContext


class MissingInfraError(ShipitError):
    """A resource Terraform owns does not exist yet (exit 1: the remote state, not the input, is wrong)."""


# Resource types of the generated module, by what shipit would otherwise create.
RESOURCE_TYPES = {
    "repository": "google_artifact_registry_repository",
    "secrets": "google_secret_manager_secret",
}
# A .tf file bigger than this is not read for the scan (the generated ones are a few KiB).
_MAX_TF_BYTES = 1 << 20


def _declared_types(infra_dir: Path) -> set[str]:
    """Resource types declared by the Terraform files under ``infra_dir`` (provider caches skipped)."""
    found: set[str] = set()
    if not infra_dir.is_dir():
        return found
    pattern = re.compile(r'^\s*resource\s+"([A-Za-z0-9_]+)"', re.MULTILINE)
    for path in sorted(infra_dir.rglob("*.tf")):
        if ".terraform" in path.relative_to(infra_dir).parts:
            continue
        try:
            if not path.is_file() or path.stat().st_size > _MAX_TF_BYTES:
                continue
            found.update(pattern.findall(path.read_text(errors="replace")))
        except OSError:
            continue
    return found


def terraform_owns(target: Target, what: str) -> bool:
    """Whether Terraform owns this environment's ``what`` ("repository" or "secrets")."""
    enabled = target.config.infra.enabled
    if enabled is not None:
        return enabled
    from shipit.infra.run import infra_paths

    if not (infra_paths(target).root / "main.tf").is_file():
        return False
    return RESOURCE_TYPES[what] in _declared_types(target.infra_dir)


def infra_creates_in_this_run(ctx: StepContext) -> bool:
    """Whether an earlier step of this run (infra, with pending changes) applies before this one."""
    # This run's own infra result (planned in this process), never one read back from an earlier run.
    infra = ctx.results.get(InfraResult.STEP)
    return isinstance(infra, InfraResult) and infra.pending


def missing_error(target: Target, what: str, names: Sequence[str]) -> MissingInfraError:
    listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    verb = "does" if len(names) == 1 else "do"
    return MissingInfraError(
        f"{what} {listed} {verb} not exist: run `shipit infra apply -e {target.env_name}` first",
        hint="Terraform owns it (infra.enabled); set infra.enabled: false to let shipit create it instead",
    )
