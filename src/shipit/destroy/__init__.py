"""`shipit destroy`: remove everything shipit created for one environment, plan first, then execute.

:func:`plan` reads (Cloud Run, Secret Manager, Artifact Registry, the Terraform state) and returns a frozen
:class:`DestroyPlan`; :func:`execute` deletes exactly what it lists, in order, treating "already gone" as
done, so a run cut short is finished by running it again.
"""

from __future__ import annotations

from shipit.destroy.execute import DestroyResult, execute
from shipit.destroy.model import DestroyOptions, DestroyPlan, Removal, TerraformPhase
from shipit.destroy.planner import plan
from shipit.destroy.terraform import is_database

__all__ = [
    "DestroyOptions",
    "DestroyPlan",
    "DestroyResult",
    "Removal",
    "TerraformPhase",
    "execute",
    "is_database",
    "plan",
]
