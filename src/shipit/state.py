"""The state file: the step results of an environment's last runs, for the next process to read.

``.shipit/state/ENV.json`` sits inside the project, so a CI step that only shares the checkout (Cloud
Build's ``/workspace``) sees what the previous step wrote. The pipeline writes it (never a step), one
step's result at a time, atomically (temporary file + rename).

Each file is stamped with the app, environment, project, region and a fingerprint of the resolved
environment config. A stamp that does not match the current target makes the whole file unusable: a
result from another environment, another project or another config revision is never used.

    {"version": 1,
     "stamp": {"app": ..., "environment": ..., "project": ..., "region": ..., "config": "sha256:..."},
     "steps": {"push": {"written": "2026-01-31T12:05:01Z", "result": {...}}, ...}}
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.results import StepResult

VERSION = 1
STATE_DIR = Path(".shipit") / "state"


def state_path(target: Target) -> Path:
    return target.root / STATE_DIR / f"{target.env_name}.json"


def config_fingerprint(target: Target) -> str:
    """Changes whenever the resolved config of the environment changes (any service, database, option)."""
    canonical = json.dumps(
        {"config": target.config.model_dump(mode="json"), "environment": target.environment.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def stamp(target: Target) -> dict[str, str]:
    target = target.origin or target  # one region of a multi-region environment: the environment's file
    return {
        "app": target.app,
        "environment": target.env_name,
        "project": target.project,
        "region": target.region,
        "config": config_fingerprint(target),
    }


@dataclass(frozen=True)
class StoredResult:
    step: str
    written: str
    data: dict[str, Any]


@dataclass(frozen=True)
class StateFile:
    """What the state file holds for this target; ``ignored`` says why a file present was not used."""

    path: Path
    steps: dict[str, StoredResult]
    ignored: str | None = None

    def get(self, step: str) -> StoredResult | None:
        return self.steps.get(step)


def _mismatch(found: Any, wanted: dict[str, str]) -> str | None:
    if not isinstance(found, dict):
        return "it has no stamp"
    for key in ("app", "environment", "project", "region"):
        if found.get(key) != wanted[key]:
            return f"it was written for {key} {found.get(key)!r}, not {wanted[key]!r}"
    if found.get("config") != wanted["config"]:
        return "shipit.yaml changed since it was written"
    return None


def read_state(target: Target) -> StateFile:
    path = state_path(target)
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return StateFile(path, {})
    except (OSError, ValueError):
        return StateFile(path, {}, ignored="it is not readable JSON")
    if not isinstance(document, dict) or document.get("version") != VERSION:
        return StateFile(path, {}, ignored=f"its version is not {VERSION}")
    why = _mismatch(document.get("stamp"), stamp(target))
    if why is not None:
        return StateFile(path, {}, ignored=why)
    steps: dict[str, StoredResult] = {}
    for name, entry in (document.get("steps") or {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("result"), dict):
            steps[str(name)] = StoredResult(str(name), str(entry.get("written", "")), dict(entry["result"]))
    return StateFile(path, steps)


def write_result(target: Target, result: StepResult, *, now: float | None = None) -> Path | None:
    """Record one step's result (merged with the other steps' results of the same stamp)."""
    if not result.PERSIST:
        return None
    path = state_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Two shipit processes of one checkout may finish steps at once: merge under a lock, never lose a step.
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _merge(target, result, now)


def _merge(target: Target, result: StepResult, now: float | None) -> Path:
    current = read_state(target)
    steps = {
        name: {"written": stored.written, "result": stored.data}
        for name, stored in current.steps.items()
        if name != result.STEP
    }
    written = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now if now is not None else time.time()))
    steps[result.STEP] = {"written": written, "result": result.to_json()}
    document = {"version": VERSION, "stamp": stamp(target), "steps": dict(sorted(steps.items()))}
    path = current.path
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path
