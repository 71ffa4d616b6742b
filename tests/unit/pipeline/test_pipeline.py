"""The pipeline's ordering, gating, re-planning and events, with in-memory steps."""

from __future__ import annotations

import io
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from shipit.config import load_config, resolve_target
from shipit.errors import Interrupted, UsageError
from shipit.output import Console
from shipit.pipeline import StepSpec, apply_all, plan_all, select_steps
from shipit.plan import Action, Change, Plan
from shipit.steps.context import StepContext

ROOT = Path(__file__).resolve().parents[3]


class FakeStep:
    """A step whose remote state is one counter; its plan says how far the counter is from `want`."""

    def __init__(self, name: str, want: int, log: list[str], reads_from: str | None = None) -> None:
        self.name, self.want, self.log, self.reads_from = name, want, log, reads_from
        self.state = 0
        self.plans = 0

    def plan(self, ctx: StepContext) -> Plan:
        self.plans += 1
        self.log.append(f"plan {self.name} input={ctx.results.get(self.reads_from or '', '-')}")
        action = Action.NOOP if self.state == self.want else Action.UPDATE
        return Plan.of(self.name, [Change(self.name, action, f"counter {self.name}")])

    def predict(self, ctx: StepContext, plan: Plan) -> Any:
        return f"{self.name}@{self.want}"

    def apply(self, ctx: StepContext, plan: Plan) -> Any:
        self.log.append(f"apply {self.name} pending={len(plan.pending)}")
        if plan.has_changes:
            if self.want < 0:
                raise KeyboardInterrupt
            self.state = self.want
        return f"{self.name}@{self.state}"


@pytest.fixture
def ctx() -> StepContext:
    target = resolve_target(load_config(ROOT / "examples/minimal/shipit.yaml"), None)
    return StepContext(target, Console(json_mode=True, stdout=io.StringIO(), stderr=io.StringIO()))


def install(monkeypatch: pytest.MonkeyPatch, *steps: FakeStep, gate: str | None = None) -> list[StepSpec]:
    specs = []
    for step in steps:
        module = types.ModuleType(f"fake_step_{step.name}")
        module.plan = step.plan  # type: ignore[attr-defined]
        module.predict = step.predict  # type: ignore[attr-defined]
        module.apply = step.apply  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module.__name__, module)
        specs.append(StepSpec(step.name, module.__name__, step.name, gate=step.name == gate))
    return specs


def test_select_steps_keeps_pipeline_order_and_rejects_unknown_names() -> None:
    assert [s.name for s in select_steps(["push,build"])] == ["build", "push"]
    names = [s.name for s in select_steps(skip=["test", "verify"])]
    assert names == ["build", "infra", "push", "secrets", "migrate", "services", "workers", "jobs"]
    with pytest.raises(UsageError, match="unknown step 'buld'") as info:
        select_steps(["buld"])
    assert info.value.hint == "did you mean 'build'?"


def test_later_steps_are_planned_against_predicted_results(monkeypatch: pytest.MonkeyPatch, ctx: StepContext) -> None:
    log: list[str] = []
    specs = install(monkeypatch, FakeStep("a", 1, log), FakeStep("b", 0, log, reads_from="a"))
    report = plan_all(ctx, specs)
    assert log == ["plan a input=-", "plan b input=a@1"]
    assert report.has_changes and [bool(s.plan and s.plan.has_changes) for s in report.steps] == [True, False]


def test_apply_replans_only_after_something_changed(monkeypatch: pytest.MonkeyPatch, ctx: StepContext) -> None:
    log: list[str] = []
    a, b, c = FakeStep("a", 0, log), FakeStep("b", 1, log, reads_from="a"), FakeStep("c", 0, log, reads_from="b")
    specs = install(monkeypatch, a, b, c)
    planned = plan_all(ctx, specs)
    log.clear()
    apply_all(ctx, specs, planned)
    # a and b reuse their plans (nothing changed before them); c is re-planned with b's real result.
    assert log == ["apply a pending=0", "apply b pending=1", "plan c input=b@1", "apply c pending=0"]
    assert ctx.results == {"a": "a@0", "b": "b@1", "c": "c@0"}


def test_gate_runs_only_when_a_later_step_has_changes(monkeypatch: pytest.MonkeyPatch, ctx: StepContext) -> None:
    log: list[str] = []
    gate, work = FakeStep("test", 0, log), FakeStep("work", 0, log)
    specs = install(monkeypatch, gate, work, gate="test")
    report = apply_all(ctx, specs, plan_all(ctx, specs))
    assert report.get("test").status == "skipped"
    work.want = 2
    log.clear()
    report = apply_all(ctx, specs, plan_all(ctx, specs))
    assert report.get("test").status == "unchanged" and report.get("work").status == "applied"
    assert log[:3] == ["plan test input=-", "plan work input=-", "apply test pending=0"]


def test_events_are_json_lines(monkeypatch: pytest.MonkeyPatch, ctx: StepContext) -> None:
    specs = install(monkeypatch, FakeStep("a", 1, []))
    apply_all(ctx, specs, plan_all(ctx, specs))
    out = ctx.console.out.getvalue()  # type: ignore[attr-defined]
    events = [json.loads(line)["event"] for line in out.splitlines()]
    assert events == ["plan_started", "plan", "step_started", "step_finished"]
    finished = json.loads(out.splitlines()[-1])
    assert finished["status"] == "applied" and finished["changes"] == 1


def test_ctrl_c_during_a_step_is_exit_130(monkeypatch: pytest.MonkeyPatch, ctx: StepContext) -> None:
    specs = install(monkeypatch, FakeStep("a", -1, []))
    with pytest.raises(Interrupted, match="re-run to continue") as info:
        apply_all(ctx, specs, plan_all(ctx, specs))
    assert info.value.exit_code == 130


def test_plan_without_events_prints_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # `shipit plan --json` prints one document; plan events would make its stdout invalid JSON.
    target = resolve_target(load_config(ROOT / "examples/minimal/shipit.yaml"), None)
    out = io.StringIO()
    quiet = StepContext(target, Console(json_mode=True, stdout=out, stderr=io.StringIO()))
    specs = install(monkeypatch, FakeStep("a", 1, []))
    plan_all(quiet, specs, events=False)
    assert out.getvalue() == ""
    plan_all(quiet, specs)
    assert [json.loads(line)["event"] for line in out.getvalue().splitlines()] == ["plan_started", "plan"]
