"""python-terraform's command lines, checked against what Terraform 1.x accepts (see adapters/terraform.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipit.adapters.terraform import modernize, summarize_plan
from shipit.errors import ShipitError
from shipit.infra.run import to_plan
from shipit.plan import Action


def test_destroy_force_becomes_auto_approve() -> None:
    import python_terraform

    tf = python_terraform.Terraform(working_dir="/nonexistent", terraform_bin_path="terraform")
    tf.variables = None
    argv = tf.generate_cmd_string("destroy", **tf._generate_default_options({"force": python_terraform.IsFlagged}))
    assert "-force" in argv  # what python-terraform 0.10 builds; Terraform >= 0.15 rejects it
    fixed = modernize(argv)
    assert "-force" not in fixed and "-auto-approve" in fixed


@pytest.mark.parametrize("arg", ["-var=password=hunter2", "-var-file=/tmp/x.tfvars.json"])
def test_variables_on_argv_are_refused(arg: str) -> None:
    with pytest.raises(ShipitError):
        modernize(["terraform", "plan", arg])


def test_plan_summary_from_show_json() -> None:
    data = {
        "resource_changes": [
            {"address": "a.new", "type": "a", "change": {"actions": ["create"], "before": None, "after": {"x": 1}}},
            {
                "address": "a.changed",
                "type": "a",
                "change": {
                    "actions": ["update"],
                    "before": {"x": 1, "secret": "old-value"},
                    "after": {"x": 2, "secret": "new-value"},
                },
            },
            {
                "address": "a.replaced",
                "type": "a",
                "change": {
                    "actions": ["delete", "create"],
                    "before": {},
                    "after": {},
                    "replace_paths": [["settings", 0]],
                },
            },
            {"address": "a.gone", "type": "a", "change": {"actions": ["delete"]}},
            {"address": "data.x.y", "mode": "data", "type": "x", "change": {"actions": ["read"]}},
            {"address": "a.same", "type": "a", "change": {"actions": ["no-op"]}},
        ],
        "output_changes": {"url": {"actions": ["update"]}, "same": {"actions": ["no-op"]}},
    }
    plan = to_plan(summarize_plan(data, Path("tfplan")))
    actions = {c.resource: c.action for c in plan}
    assert actions == {
        "a.new": Action.CREATE,
        "a.changed": Action.UPDATE,
        "a.replaced": Action.REPLACE,
        "a.gone": Action.DELETE,
        "a.same": Action.NOOP,
        "outputs": Action.UPDATE,
    }
    text = "\n".join(plan.render_lines())
    assert "changes secret, x" in text
    assert "old-value" not in text and "new-value" not in text  # attribute names only, never values
    assert "settings.0 forces replacement" in text
