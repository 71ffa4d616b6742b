"""The destroy plan: what goes, in which order, and what stays and why. Values only (no clients)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shipit.plan import Action, Change, Plan

STEP = "destroy"

# The kinds of resource removed through an API call, in the order they are removed: what runs first (it
# reads the secrets and images), then what it read.
KINDS = ("service", "worker-pool", "job", "secret", "repository")
KIND_NAMES = {
    "service": "Cloud Run service",
    "worker-pool": "Cloud Run worker pool",
    "job": "Cloud Run job",
    "secret": "Secret Manager secret",
    "repository": "Artifact Registry repository",
}


@dataclass(frozen=True)
class DestroyOptions:
    images: bool = False  # also the Artifact Registry repository with every image pushed to it
    include_data: bool = False  # also Cloud SQL (instance, databases, users): the data goes with it


@dataclass(frozen=True)
class Removal:
    """One resource deleted through its API."""

    kind: str  # one of KINDS
    name: str  # the full resource name
    why: str = ""  # what goes with it
    region: str = ""  # set for a service outside the primary region: named NAME@REGION, as deploy plans do

    @property
    def short(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @property
    def label(self) -> str:
        return f"{KIND_NAMES[self.kind]} {self.short}" + (f"@{self.region}" if self.region else "")

    def change(self) -> Change:
        return Change(STEP, Action.DELETE, self.label, self.why)


@dataclass(frozen=True)
class TerraformPhase:
    """One `terraform destroy` of the environment's root: ``targets`` empty means the whole state."""

    resources: tuple[str, ...]  # instance addresses it destroys (as planned from the state)
    targets: tuple[str, ...] = ()
    # Instances that must not be destroyed by a targeted phase (the database and what holds its URL).
    guarded: tuple[str, ...] = ()

    def changes(self, label: str) -> list[Change]:
        return [Change(STEP, Action.DELETE, address, label) for address in self.resources]


@dataclass(frozen=True)
class DestroyPlan:
    environment: str
    project: str
    region: str
    options: DestroyOptions
    removals: tuple[Removal, ...] = ()
    infra: TerraformPhase | None = None  # everything Terraform made but the data
    data: TerraformPhase | None = None  # Cloud SQL and what it depends on (--include-data), last
    kept: tuple[str, ...] = ()  # what stays, each with its reason
    notes: tuple[str, ...] = ()
    blockers: tuple[str, ...] = ()  # why it cannot run as asked (e.g. deletion protection)

    @property
    def empty(self) -> bool:
        return not self.removals and self.infra is None and self.data is None

    @property
    def count(self) -> int:
        return len(self.removals) + sum(len(p.resources) for p in (self.infra, self.data) if p is not None)

    def as_plan(self) -> Plan:
        changes = [r.change() for r in self.removals]
        if self.infra is not None:
            changes.extend(self.infra.changes("terraform destroy"))
        if self.data is not None:
            changes.extend(self.data.changes("terraform destroy (data, last)"))
        notes = [f"kept: {k}" for k in self.kept] + list(self.notes)
        return Plan.of(STEP, changes, notes, self.blockers)

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "project": self.project,
            "region": self.region,
            "images": self.options.images,
            "include_data": self.options.include_data,
            "removals": [{"kind": r.kind, "name": r.name, "with": r.why} for r in self.removals],
            "terraform": {
                "infra": None if self.infra is None else {"destroy": list(self.infra.resources)},
                "data": None if self.data is None else {"destroy": list(self.data.resources)},
            },
            "kept": list(self.kept),
            "notes": list(self.notes),
            "blockers": list(self.blockers),
        }
