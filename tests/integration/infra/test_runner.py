"""shipit's Terraform adapter against the real terraform binary, on modules of built-in resources."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from shipit.adapters import process
from shipit.adapters.terraform import StateLocked, Terraform, TerraformFailed, TerraformOptions
from shipit.errors import ToolError
from shipit.infra.run import to_plan
from shipit.output import REDACTOR
from shipit.plan import Action

pytestmark = pytest.mark.terraform

SECRET = "s3cr3t-from-env-Zq81"

MODULE = """
terraform {
  backend "local" {}
}

variable "name" {
  type    = string
  default = "first"
}

variable "db_password" {
  type      = string
  sensitive = true
}

variable "fail" {
  type    = bool
  default = false
}

variable "sleep" {
  type    = number
  default = 0
}

resource "terraform_data" "app" {
  input = var.name
}

resource "terraform_data" "pinned" {
  input            = "stable"
  triggers_replace = [var.name == "replace-me" ? "b" : "a"]
}

# Records terraform's own command line, as the kernel sees it, to prove no secret is in it.
resource "terraform_data" "argv_probe" {
  triggers_replace = [var.name]
  provisioner "local-exec" {
    command = "tr '\\\\0' ' ' < /proc/$PPID/cmdline > argv-$PPID.txt"
  }
}

resource "terraform_data" "boom" {
  count = var.fail ? 1 : 0
  provisioner "local-exec" {
    command = "echo quota exceeded for instances >&2; exit 1"
  }
}

resource "terraform_data" "slow" {
  count            = var.sleep > 0 ? 1 : 0
  triggers_replace = [timestamp()]
  provisioner "local-exec" {
    command = "sleep ${var.sleep}"
  }
}

output "name" {
  value = terraform_data.app.output
}

output "password" {
  value     = var.db_password
  sensitive = true
}
"""


class Recorder:
    """The real process runner, recording each argv and environment key it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], dict[str, str]]] = []

    def __call__(self, argv: Sequence[str], **kwargs: Any) -> process.Result:
        env: Mapping[str, str] = kwargs.get("env") or {}
        self.calls.append((tuple(argv), dict(env)))
        return process.run(argv, **kwargs)

    def argvs(self) -> list[tuple[str, ...]]:
        return [argv for argv, _ in self.calls]


@pytest.fixture
def module(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(MODULE)
    return root


def make(
    root: Path, terraform_bin: str, lines: list[str], recorder: Recorder | None = None, **variables: str
) -> Terraform:
    return Terraform(
        root,
        options=TerraformOptions(binary=terraform_bin, lock_timeout="1s"),
        variables={"db_password": SECRET, **variables},
        on_line=lines.append,
        runner=recorder or process.run,
    )


def test_init_plan_show_apply_outputs(module: Path, terraform_bin: str, tmp_path: Path) -> None:
    lines: list[str] = []
    recorder = Recorder()
    tf = make(module, terraform_bin, lines, recorder)
    assert tf.version().startswith("1.")
    tf.init()
    plan_file = tmp_path / "tfplan"
    assert tf.plan(plan_file) is True
    summary = tf.show_plan(plan_file)
    plan = to_plan(summary)
    assert {c.resource: c.action for c in plan} == {
        "terraform_data.app": Action.CREATE,
        "terraform_data.pinned": Action.CREATE,
        "terraform_data.argv_probe": Action.CREATE,
        "outputs": Action.UPDATE,  # new outputs: name, password (values never in the plan)
    }
    assert next(c for c in plan if c.resource == "outputs").summary == "name, password"
    tf.apply(plan_file)
    assert any("Apply complete!" in line for line in lines), "output is streamed live"
    outputs = tf.outputs()
    assert outputs["name"].value == "first" and not outputs["name"].sensitive
    assert outputs["password"].sensitive and outputs["password"].value is None
    assert REDACTOR.redact(f"x {SECRET} y") == "x *** y"

    # Nothing to do the second time: detailed exit code 0, no pending change.
    assert tf.plan(plan_file) is False
    assert not to_plan(tf.show_plan(plan_file)).has_changes

    # The secret went through TF_VAR_db_password only: never argv (ours, and terraform's own as the kernel sees it).
    for argv, env in recorder.calls:
        assert not any(SECRET in arg for arg in argv)
        assert not any(arg.startswith(("-var=", "-var-file=")) for arg in argv)
        assert env.get("TF_VAR_db_password") == SECRET
    probes = list(module.glob("argv-*.txt"))
    assert probes, "the local-exec probe ran"
    for probe in probes:
        text = probe.read_text()
        assert "terraform" in text and SECRET not in text
    assert not any(SECRET in line for line in lines)

    # Every command python-terraform built is one terraform 1.x accepts (they all ran), and none used -force.
    commands = [argv[1] for argv in recorder.argvs()]
    assert commands[:4] == ["version", "init", "plan", "show"]
    assert all("-force" not in argv for argv in recorder.argvs())
    assert any("-lock-timeout=1s" in argv for argv in recorder.argvs() if argv[1] in ("plan", "apply"))
    assert all("-input=false" in argv for argv in recorder.argvs() if argv[1] in ("init", "plan", "apply"))


def test_apply_applies_exactly_the_saved_plan(module: Path, terraform_bin: str, tmp_path: Path) -> None:
    lines: list[str] = []
    make(module, terraform_bin, lines).init()
    plan_file = tmp_path / "tfplan"
    make(module, terraform_bin, lines, name="planned").plan(plan_file)
    # Someone changes the input after the plan was shown: the apply still does what was shown.
    make(module, terraform_bin, lines, name="changed-later").apply(plan_file)
    assert make(module, terraform_bin, lines).outputs()["name"].value == "planned"


def test_replacement_is_highlighted(module: Path, terraform_bin: str, tmp_path: Path) -> None:
    lines: list[str] = []
    tf = make(module, terraform_bin, lines)
    tf.init()
    plan_file = tmp_path / "tfplan"
    tf.plan(plan_file)
    tf.apply(plan_file)
    tf2 = make(module, terraform_bin, lines, name="replace-me")
    tf2.plan(plan_file)
    plan = to_plan(tf2.show_plan(plan_file))
    actions = {c.resource: c for c in plan}
    assert actions["terraform_data.app"].action is Action.UPDATE
    assert "input" in actions["terraform_data.app"].summary
    assert actions["terraform_data.pinned"].action is Action.REPLACE
    assert "REPLACED" in actions["terraform_data.pinned"].summary
    assert any("destroyed and re-created" in note for note in plan.notes)
    text = "\n".join(plan.render_lines())
    assert "-/+ replace" in text and SECRET not in text


def test_failing_apply_names_the_resource_and_the_message(module: Path, terraform_bin: str, tmp_path: Path) -> None:
    lines: list[str] = []
    tf = make(module, terraform_bin, lines, fail="true")
    tf.init()
    plan_file = tmp_path / "tfplan"
    tf.plan(plan_file)
    with pytest.raises(TerraformFailed) as caught:
        tf.apply(plan_file)
    message = caught.value.render()
    assert "terraform_data.boom[0]" in message
    assert "quota exceeded for instances" in message
    assert caught.value.diagnostics[0].address == "terraform_data.boom[0]"


def test_held_lock_says_who_holds_it(module: Path, terraform_bin: str, tmp_path: Path) -> None:
    lines: list[str] = []
    make(module, terraform_bin, lines).init()
    env = {**os.environ, "TF_VAR_db_password": SECRET, "TF_VAR_sleep": "30", "TF_IN_AUTOMATION": "1"}
    holder = subprocess.Popen(
        [terraform_bin, "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=module,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        info = module / ".terraform.tfstate.lock.info"
        for _ in range(300):  # the holder writes this once it has the lock
            if info.exists() and info.read_text().strip():
                break
            time.sleep(0.1)
        holder_info = json.loads(info.read_text())
        with pytest.raises(StateLocked) as caught:
            make(module, terraform_bin, lines).plan(tmp_path / "tfplan")
        assert caught.value.who == holder_info["Who"]
        assert caught.value.lock_id == holder_info["ID"]
        assert holder_info["Who"] in caught.value.message and "apply" in caught.value.message
        assert "force-unlock" in (caught.value.hint or "")
    finally:
        holder.kill()
        holder.wait()


def test_missing_terraform_says_which_version_is_needed(tmp_path: Path) -> None:
    with pytest.raises(ToolError) as caught:
        Terraform(tmp_path, options=TerraformOptions(binary=str(tmp_path / "nope" / "terraform")))
    assert ">= 1.11" in (caught.value.hint or "")


def test_too_old_terraform_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "terraform"
    fake.write_text('#!/bin/sh\necho \'{"terraform_version": "1.2.9"}\'\n')
    fake.chmod(0o755)
    with pytest.raises(ToolError) as caught:
        Terraform(tmp_path, options=TerraformOptions(binary=str(fake))).version()
    assert "1.2.9" in caught.value.message and ">= 1.11" in caught.value.message
