"""Which Terraform resources `shipit destroy` removes, and which it leaves, from the environment's state.

Without ``--include-data`` the database must survive, but Terraform 1.11 has no "everything except": the
destroy is *targeted* at every other resource instead. Targeting in a destroy also takes whatever depends
on a target, so the set left out is closed over dependencies: the Cloud SQL resources, the secrets that hold
their URL (the password in it could not be written again without resetting the user's), and everything those
depend on (the VPC, the private services connection, the API enablement). The saved plan is then checked:
if it would still delete one of them, nothing is applied. (`terraform state rm` is never used: it would make
Terraform forget a database that still exists.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from shipit.adapters.terraform import StateResource

# What holds data: removed only with --include-data, and last.
DATABASE_TYPES = frozenset({"google_sql_database_instance", "google_sql_database", "google_sql_user"})
INSTANCE_TYPE = "google_sql_database_instance"
REPOSITORY_TYPE = "google_artifact_registry_repository"
SECRET_TYPES = frozenset({"google_secret_manager_secret", "google_secret_manager_secret_version"})

Predicate = Callable[[StateResource], bool]


def is_database(resource: StateResource) -> bool:
    return resource.resource_type in DATABASE_TYPES


def is_repository(resource: StateResource) -> bool:
    return resource.resource_type == REPOSITORY_TYPE


@dataclass(frozen=True)
class Split:
    destroy: tuple[StateResource, ...]  # removed by the targeted destroy
    kept: tuple[StateResource, ...]  # left for --include-data (or kept for good: the repository without --images)
    guarded: tuple[str, ...]  # addresses the targeted plan must not delete


def _by_resource(state: Iterable[StateResource]) -> dict[str, list[StateResource]]:
    found: dict[str, list[StateResource]] = {}
    for res in state:
        found.setdefault(res.resource, []).append(res)
    return found


def _dependencies(roots: Iterable[StateResource], state: tuple[StateResource, ...]) -> set[str]:
    """Addresses of ``roots`` and of everything they depend on, transitively."""
    by_resource = _by_resource(state)
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        res = todo.pop()
        if res.address in seen:
            continue
        seen.add(res.address)
        for dep in res.depends_on:
            todo.extend(by_resource.get(dep, ()))
    return seen


def _dependents(roots: set[str], state: tuple[StateResource, ...]) -> set[str]:
    """Addresses that depend on one of ``roots``, transitively (roots included)."""
    by_resource = _by_resource(state)
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for res in state:
            if res.address in found:
                continue
            if any(d.address in found for dep in res.depends_on for d in by_resource.get(dep, ())):
                found.add(res.address)
                changed = True
    return found


def split(state: tuple[StateResource, ...], *, keep: Predicate) -> Split:
    """Split the state into what a targeted destroy removes and what it must leave (``keep`` and its closure)."""
    roots = {r.address for r in state if keep(r)}
    # The secrets holding a database's URL stay with the database.
    url_secrets = {
        r.address for r in state if r.resource_type in SECRET_TYPES and r.address in _dependents(roots, state)
    }
    guarded = roots | url_secrets
    kept = _dependencies([r for r in state if r.address in guarded], state)
    return Split(
        destroy=tuple(r for r in state if r.address not in kept),
        kept=tuple(r for r in state if r.address in kept),
        guarded=tuple(sorted(guarded)),
    )


def protected_instances(state: Iterable[StateResource], is_data: Predicate = is_database) -> list[str]:
    """Cloud SQL instances whose Terraform deletion_protection is on: a destroy of them fails."""
    return [r.address for r in state if is_data(r) and r.deletion_protection]
