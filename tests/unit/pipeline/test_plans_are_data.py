"""Plans are data: no Change payload of any step holds a client, a context, a lock or a mutable container.

Every step plans the fullstack example offline, and the services and migrate steps also against in-memory
Cloud Run fakes that know every service (so their payloads carry live state); then every payload is walked.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import io
import threading
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import Any

import pytest

from shipit.config import load_config, resolve_target
from shipit.errors import ToolError
from shipit.output import Console
from shipit.pipeline import STEPS, plan_all
from shipit.plan import Action, Change, Plan, freeze, thaw
from shipit.remote import Remote
from shipit.steps import migrate
from shipit.steps import services as services_step
from shipit.steps.context import RunOptions, StepContext
from unit.deploy.test_planner import MemoryRun

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples/fullstack/shipit.yaml"
IMG = "us-central1-docker.pkg.dev/shop-staging-123/shop/{}@sha256:" + "a" * 64
_VALUES = (str, int, float, bool, bytes, type(None), PurePath, enum.Enum)


class NoDocker:
    """The engine is not running: the build step plans without it (and says so)."""

    def ping(self) -> None:
        raise ToolError("no docker engine in this test")


class MemoryJobs:
    """Cloud Run jobs with none deployed yet."""

    def normalize(self, spec: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(spec)

    def get_job(self, name: str) -> None:
        return None


def offenders(value: Any, where: str) -> list[str]:
    """Paths under ``where`` to anything that is not plain frozen data."""
    if isinstance(value, _VALUES):
        return []
    if isinstance(value, (tuple, frozenset)):
        return [o for i, item in enumerate(value) for o in offenders(item, f"{where}[{i}]")]
    if isinstance(value, MappingProxyType):
        return [o for key, item in value.items() for o in offenders(item, f"{where}.{key}")]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not type(value).__dataclass_params__.frozen:  # type: ignore[attr-defined]
            return [f"{where}: {type(value).__name__} is not a frozen dataclass"]
        return [o for f in dataclasses.fields(value) for o in offenders(getattr(value, f.name), f"{where}.{f.name}")]
    return [f"{where}: {type(value).__module__}.{type(value).__qualname__}"]


def payload_offenders(plans: list[Plan]) -> list[str]:
    return [o for plan in plans for change in plan for o in offenders(change.payload, change.resource)]


def _ctx(*, given_images: bool, **options: Any) -> StepContext:
    target = resolve_target(load_config(EXAMPLE), None)
    console = Console(json_mode=True, stdout=io.StringIO(), stderr=io.StringIO())
    live = MemoryRun()
    for name in target.config.services:
        full = f"projects/{target.project}/locations/{target.region}/services/{name}"
        live.services[full] = {
            "name": full,
            "uri": f"https://{name}-x.a.run.app",
            "etag": "1",
            "template": {},
            # Pinned to one revision, as a canary leaves it: promote plans a traffic change.
            "traffic": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": f"{name}-1", "percent": 100}],
            "latestCreatedRevision": f"{full}/revisions/{name}-2",
            "latestReadyRevision": f"{full}/revisions/{name}-2",
        }
    remote = Remote(run=live, jobs=MemoryJobs(), docker=NoDocker())  # type: ignore[arg-type]
    images = tuple((name, IMG.format(name)) for name in target.config.services if given_images)
    return StepContext(target, console, RunOptions(images=images, **options), remote=remote)


def test_every_step_of_the_offline_plan_is_data() -> None:
    report = plan_all(_ctx(given_images=False, offline=True, dry_run=True), STEPS, events=False)
    plans = [s.plan for s in report.steps if s.plan is not None]
    assert {p.step for p in plans} == {s.name for s in STEPS}
    assert sum(1 for p in plans for c in p if c.payload is not None) > 5
    assert payload_offenders(plans) == []


def test_services_promote_and_migrate_plans_against_live_state_are_data() -> None:
    ctx = _ctx(given_images=True)
    services = services_step.plan(ctx, services_step.DeployOptions(git_sha="0" * 40, release_id="r1"))
    promote = services_step.plan_promote(ctx)
    assert any(c.payload.live is not None for c in services) and promote.has_changes
    assert payload_offenders([services, promote, migrate.plan(ctx)]) == []


@pytest.mark.parametrize(
    ("payload", "found"),
    [
        ({"a": 1}, "dict"),
        ((1, [2]), "list"),
        (threading.Lock(), "lock"),
        (MemoryRun(), "MemoryRun"),
        (Change("s", Action.NOOP, "r", payload=(Path("plan.tfplan"), b"x", None)), ""),
    ],
)
def test_the_walk_finds_what_is_not_data(payload: Any, found: str) -> None:
    result = offenders(payload, "p")
    assert bool(result) == bool(found) and all(found in line for line in result)


def test_freeze_and_thaw_round_trip() -> None:
    body = {"template": {"containers": [{"env": [{"name": "A", "value": "1"}]}]}, "traffic": []}
    frozen = freeze(body)
    assert offenders(frozen, "body") == []
    assert thaw(frozen) == body
    with pytest.raises(TypeError):
        frozen["template"]["x"] = 1
