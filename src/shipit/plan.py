"""Plans: what a step is about to do, computed from desired state and read-only calls, before any write.

A :class:`Plan` is a tuple of frozen :class:`Change` records. Its text and JSON forms never contain a
secret value: diffs carry display strings that steps build from hashes, names and versions.

A plan is data: a Change's payload holds values only (frozen dataclasses, tuples, read-only mappings
made with :func:`freeze`), never a client, a step context, a lock or a container someone could change
between plan and apply. apply() gets the plan plus the remote boundary (``ctx.remote``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from shipit.output import REDACTOR

# REST JSON (a live resource, a desired spec) as a plan holds it: read-only mappings and tuples all the way down.
FrozenJson = Mapping[str, Any]


def freeze(value: Any) -> Any:
    """``value`` with every dict made a read-only mapping and every list a tuple, recursively."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """A mutable deep copy of a frozen value (dicts and lists again), e.g. a request body to send."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def freeze_json(value: Mapping[str, Any]) -> FrozenJson:
    frozen: FrozenJson = freeze(value)
    return frozen


def thaw_json(value: Mapping[str, Any]) -> dict[str, Any]:
    thawed: dict[str, Any] = thaw(value)
    return thawed


class Action(str, enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "no-op": "="}[self.value]


@dataclass(frozen=True)
class FieldDiff:
    field: str
    before: str | None
    after: str | None

    def render(self) -> str:
        before = "(none)" if self.before is None else self.before
        after = "(none)" if self.after is None else self.after
        return f"{self.field}: {before} -> {after}"


@dataclass(frozen=True)
class Change:
    step: str
    action: Action
    resource: str
    summary: str = ""
    diffs: tuple[FieldDiff, ...] = ()
    # Step-specific instruction consumed by the step's apply(); never rendered.
    payload: Any = field(default=None, compare=False, repr=False)

    @property
    def is_noop(self) -> bool:
        return self.action is Action.NOOP

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"step": self.step, "action": self.action.value, "resource": self.resource}
        if self.summary:
            data["summary"] = REDACTOR.redact(self.summary)
        if self.diffs:
            data["diff"] = [
                {
                    "field": d.field,
                    "before": None if d.before is None else REDACTOR.redact(d.before),
                    "after": None if d.after is None else REDACTOR.redact(d.after),
                }
                for d in self.diffs
            ]
        return data


@dataclass(frozen=True)
class Plan:
    step: str
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()
    # Reasons the release would stop at this step (an offline plan still shows the rest): `shipit plan` exits 1.
    blockers: tuple[str, ...] = ()

    @classmethod
    def of(cls, step: str, changes: Iterable[Change], notes: Iterable[str] = (), blockers: Iterable[str] = ()) -> Plan:
        return cls(step=step, changes=tuple(changes), notes=tuple(notes), blockers=tuple(blockers))

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.is_noop)

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    def counts(self) -> dict[str, int]:
        counts = {action.value: 0 for action in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    def summary_line(self) -> str:
        counts = self.counts()
        if not self.changes:
            return f"{self.step}: nothing to change"
        if not self.has_changes:
            return f"{self.step}: no changes ({counts['no-op']} unchanged)"
        parts = [f"{n} to {a}" for a, n in counts.items() if n and a != "no-op"]
        if counts["no-op"]:
            parts.append(f"{counts['no-op']} unchanged")
        return f"{self.step}: " + ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "changes": [c.to_json() for c in self.changes],
            "counts": self.counts(),
            "notes": [REDACTOR.redact(n) for n in self.notes],
            "blockers": [REDACTOR.redact(b) for b in self.blockers],
        }

    def render_lines(self, *, show_noop: bool = True) -> list[str]:
        lines = [self.summary_line()]
        for change in self.changes:
            if change.is_noop and not show_noop:
                continue
            text = f"  {change.action.symbol} {change.action.value:<7} {change.resource}"
            if change.summary:
                text += f"  {change.summary}"
            lines.append(text)
            lines.extend(f"        {d.render()}" for d in change.diffs)
        lines.extend(f"  note: {n}" for n in self.notes)
        lines.extend(f"  blocker: {b}" for b in self.blockers)
        return [REDACTOR.redact(line) for line in lines]
