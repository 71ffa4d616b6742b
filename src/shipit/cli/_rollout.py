"""Show a plan, stop on --dry-run, confirm when interactive, apply: shared by the Cloud Run verbs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shipit.cli.app import Application
from shipit.plan import Plan


def show_and_apply(app: Application, plan: Plan, apply: Callable[[], Any], *, dry_run: bool, yes: bool) -> None:
    console = app.console
    for line in plan.render_lines():
        console.print(line)
    if dry_run or not plan.has_changes:
        console.emit({"plan": plan.to_json(), "applied": False})
        if dry_run and plan.has_changes:
            console.info("dry run: nothing changed")
        return
    app.confirm("Apply these changes?", yes=yes)
    result = apply()
    console.emit({"plan": plan.to_json(), "applied": True, "result": result})
