"""`shipit infra generate`: write the Terraform into infra/ without destroying the user's edits.

Plan, then apply: :func:`plan_files` compares what shipit would write with what is on disk (see
:mod:`shipit.infra.ownership`) and returns a :class:`~shipit.plan.Plan`; :func:`apply_files` writes it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipit.config.target import Target
from shipit.infra import ownership
from shipit.infra.ownership import State
from shipit.plan import Action, Change, Plan

STEP = "infra.generate"


@dataclass(frozen=True)
class GenerateOptions:
    force: bool = False  # overwrite shipit-owned files that someone edited


@dataclass(frozen=True)
class FileWrite:
    """The payload of one change: what to write (None: delete)."""

    path: Path
    text: str | None


def desired_files(targets: Sequence[Target]) -> dict[str, str]:
    from shipit.render.terraform import render_infra

    return {rel: ownership.with_header(body) for rel, body in render_infra(targets).items()}


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _owned_module_files(infra_dir: Path) -> list[str]:
    """Files directly in infra/ that shipit generated earlier (candidates for removal)."""
    if not infra_dir.is_dir():
        return []
    names = [p.name for p in infra_dir.iterdir() if p.is_file() and (p.suffix == ".tf" or p.name == ".gitignore")]
    return sorted(n for n in names if ownership.classify(_read(infra_dir / n)) is not State.USER)


def plan_files(infra_dir: Path, desired: Mapping[str, str], options: GenerateOptions = GenerateOptions()) -> Plan:
    changes: list[Change] = []
    notes: list[str] = []
    display = infra_dir.name
    for rel, text in desired.items():
        path = infra_dir / rel
        current = _read(path)
        state = ownership.classify(current)
        resource = f"{display}/{rel}"
        if state is State.MISSING:
            changes.append(Change(STEP, Action.CREATE, resource, payload=FileWrite(path, text)))
        elif state is State.USER:
            changes.append(Change(STEP, Action.NOOP, resource, "yours (no shipit header): left alone"))
        elif current == text:
            changes.append(Change(STEP, Action.NOOP, resource))
        elif state is State.OWNED or options.force:
            summary = "edited by you: overwritten (--force)" if state is State.EDITED else ""
            changes.append(Change(STEP, Action.UPDATE, resource, summary, payload=FileWrite(path, text)))
        else:
            assert current is not None
            diff = ownership.unified_diff(ownership.split(current)[1], ownership.split(text)[1], resource)
            changes.append(
                Change(
                    STEP, Action.NOOP, resource, "edited by you: kept; shipit's version differs (--force to take it)"
                )
            )
            notes.append(f"{resource} differs from what shipit generates:\n{diff.rstrip()}")
    for name in _owned_module_files(infra_dir):
        if name in desired:
            continue
        path = infra_dir / name
        resource = f"{display}/{name}"
        if ownership.classify(_read(path)) is State.OWNED or options.force:
            changes.append(Change(STEP, Action.DELETE, resource, "no longer needed", payload=FileWrite(path, None)))
        else:
            changes.append(Change(STEP, Action.NOOP, resource, "no longer generated, but edited by you: kept"))
    return Plan.of(STEP, changes, notes)


def apply_files(plan: Plan) -> list[Path]:
    written: list[Path] = []
    for change in plan.pending:
        payload = change.payload
        if not isinstance(payload, FileWrite):
            continue
        if payload.text is None:
            payload.path.unlink(missing_ok=True)
            continue
        payload.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = payload.path.with_name(payload.path.name + ".shipit-tmp")
        tmp.write_text(payload.text)
        os.replace(tmp, payload.path)  # atomic: an interrupted run never leaves half a file
        written.append(payload.path)
    return written


def edited_files(plan: Plan) -> list[str]:
    return [c.resource for c in plan if c.is_noop and c.summary.startswith("edited by you: kept;")]
