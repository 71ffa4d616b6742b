"""Who may invoke each Cloud Run service: the members of roles/run.invoker that shipit manages.

shipit manages two members and leaves every other one alone: ``allUsers`` (services with
``allow_unauthenticated``) and the Pub/Sub push account (services a push subscription delivers to). The push
account is bound on the service itself, once shipit has created it: Cloud Run is not among the services whose
resources IAM Conditions can name, so a project-wide binding could not be narrowed to the pushed-to services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipit.names import PUSH_ACCOUNT, account_email
from shipit.plan import FieldDiff
from shipit.steps.services.api import Json

if TYPE_CHECKING:
    from shipit.config import Target

INVOKER = "roles/run.invoker"
ALL_USERS = "allUsers"


@dataclass(frozen=True)
class InvokerChange:
    """Members to add to and remove from the service's unconditional roles/run.invoker binding."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)

    def diffs(self) -> list[FieldDiff]:
        added = [FieldDiff(f"iam.{_label(m)}", "(none)", INVOKER) for m in self.add]
        return added + [FieldDiff(f"iam.{_label(m)}", INVOKER, "(none)") for m in self.remove]

    def audience(self) -> str:
        """Who a new service admits, for its plan line: "public", "Pub/Sub push" or both."""
        return ", ".join("public" if m == ALL_USERS else "Pub/Sub push" for m in self.add)

    def describe(self) -> str:
        words = [f"allowed {_who(m)}" for m in self.add] + [f"removed {_who(m)}" for m in self.remove]
        return ", ".join(words)


def push_member(target: Target) -> str:
    """The Pub/Sub push account, as an IAM member (the generated Terraform creates it under this id)."""
    return f"serviceAccount:{account_email(target, PUSH_ACCOUNT)}"


def wanted(target: Target, service: str) -> frozenset[str]:
    """The managed members that should invoke ``service``."""
    config = target.config
    members = {ALL_USERS} if config.services[service].cloud_run.allow_unauthenticated else set()
    subscriptions = config.pubsub.subscriptions.values() if config.pubsub else ()
    if any(sub.push is not None and sub.push.service == service for sub in subscriptions):
        members.add(push_member(target))
    return frozenset(members)


def invokers(policy: Json | None) -> set[str]:
    """Every member holding roles/run.invoker in ``policy`` (conditional bindings included)."""
    found: set[str] = set()
    for binding in (policy or {}).get("bindings", []):
        if binding.get("role") == INVOKER:
            found.update(binding.get("members", []))
    return found


def change_for(target: Target, service: str, policy: Json | None, *, removals: bool = True) -> InvokerChange:
    """What to change in ``policy`` so that exactly the wanted managed members invoke ``service``."""
    want = wanted(target, service)
    have = invokers(policy) & {ALL_USERS, push_member(target)}
    remove = sorted(have - want) if removals else []
    return InvokerChange(tuple(sorted(want - have)), tuple(remove))


def apply_change(policy: Json, change: InvokerChange) -> Json:
    """``policy`` with ``change`` made: additions go to the unconditional invoker binding (created if needed)."""
    bindings = [dict(b) for b in policy.get("bindings", [])]
    if change.remove:
        for binding in bindings:
            if binding.get("role") == INVOKER:
                binding["members"] = [m for m in binding.get("members", []) if m not in change.remove]
        bindings = [b for b in bindings if b.get("members")]
    if change.add:
        for binding in bindings:
            if binding.get("role") == INVOKER and not binding.get("condition"):
                binding["members"] = sorted({*binding.get("members", []), *change.add})
                break
        else:
            bindings.append({"role": INVOKER, "members": sorted(change.add)})
    return {**policy, "bindings": bindings}


def _label(member: str) -> str:
    return member if member == ALL_USERS else member.split(":", 1)[-1]


def _who(member: str) -> str:
    return "unauthenticated access" if member == ALL_USERS else f"Pub/Sub push ({_label(member)})"
