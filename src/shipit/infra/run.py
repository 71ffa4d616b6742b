"""Run an environment's Terraform: init, plan to a saved file, apply exactly that file, read outputs.

Working files live in ``.shipit/infra/ENV/`` (the saved plan, the outputs cache), not in infra/:
a saved plan embeds state, which holds secrets, so it is private to the user (0600) and removed
after it has been applied.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipit.adapters.terraform import (
    PlanSummary,
    ResourceChange,
    StateResource,
    Terraform,
    TerraformFactory,
    default_terraform,
)
from shipit.config.target import Target
from shipit.errors import UsageError
from shipit.output import Console
from shipit.plan import Action, Change, Plan

STEP = "infra"


@dataclass(frozen=True)
class InfraPaths:
    root: Path  # the environment's Terraform root module
    work: Path  # .shipit/infra/ENV

    @property
    def plan_file(self) -> Path:
        return self.work / "tfplan"

    @property
    def outputs_file(self) -> Path:
        return self.work / "outputs.json"


def infra_paths(target: Target) -> InfraPaths:
    from shipit.render.terraform import environment_dir

    return InfraPaths(
        root=target.infra_dir / environment_dir(target.env_name),
        work=target.root / ".shipit" / "infra" / target.env_name,
    )


@dataclass(frozen=True)
class SavedPlan:
    """Payload of every change of an infra plan: the file `terraform apply` will apply."""

    path: Path
    destroy: bool = False


def _action(actions: tuple[str, ...]) -> Action:
    if "delete" in actions and "create" in actions:
        return Action.REPLACE
    if "create" in actions:
        return Action.CREATE
    if "delete" in actions:
        return Action.DELETE
    if "update" in actions:
        return Action.UPDATE
    return Action.NOOP


def _change(rc: ResourceChange, saved: SavedPlan) -> Change:
    action = _action(rc.actions)
    summary = ""
    if action is Action.REPLACE:
        cause = ", ".join(rc.replace_paths) or ", ".join(rc.changed)
        summary = "REPLACED (destroyed, then created)" + (f": {cause} forces replacement" if cause else "")
    elif action is Action.UPDATE and rc.changed:
        summary = "changes " + ", ".join(rc.changed)
    return Change(STEP, action, rc.address, summary, payload=saved)


def to_plan(summary: PlanSummary) -> Plan:
    saved = SavedPlan(summary.path, summary.destroy)
    changes = [_change(rc, saved) for rc in summary.resources]
    changed_outputs = [name for name, actions in summary.outputs if _action(actions) is not Action.NOOP]
    if changed_outputs:
        changes.append(Change(STEP, Action.UPDATE, "outputs", ", ".join(changed_outputs), payload=saved))
    notes = []
    replaced = [c.resource for c in changes if c.action is Action.REPLACE]
    if replaced:
        notes.append(f"{len(replaced)} resource(s) will be destroyed and re-created: {', '.join(replaced)}")
    return Plan.of(STEP, changes, notes)


class InfraRunner:
    """Terraform for one environment, printing its output live to the console."""

    def __init__(
        self,
        target: Target,
        console: Console,
        terraform: TerraformFactory | None = None,
        *,
        paths: InfraPaths | None = None,
    ) -> None:
        self.target = target
        self.console = console
        self.paths = paths or infra_paths(target)
        self._factory = terraform or default_terraform()
        self._tf: Terraform | None = None

    @property
    def tf(self) -> Terraform:
        if self._tf is None:
            if not (self.paths.root / "main.tf").is_file():
                raise UsageError(
                    f"no Terraform for environment {self.target.env_name} in {self.paths.root}",
                    hint="run `shipit infra generate`",
                )
            self._tf = self._factory(self.paths.root, self._line)
            self._tf.version()
        return self._tf

    def _line(self, line: str) -> None:
        self.console.info(f"  {line}")

    def _workdir(self) -> Path:
        self.paths.work.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.paths.work

    def init(self) -> None:
        self.console.info(f"terraform init ({self.paths.root})")
        self.tf.init()

    def plan(self, *, destroy: bool = False, targets: Sequence[str] = ()) -> Plan:
        """init, then a saved plan, summarised. The returned plan's changes carry the file to apply.
        ``targets``: only these resource instances (`shipit destroy` leaves the database out this way)."""
        self.init()
        path = self._workdir() / "tfplan"
        path.unlink(missing_ok=True)
        self.console.info("terraform plan" + (" -destroy" if destroy else "") + (" -target=..." if targets else ""))
        self.tf.plan(path, destroy=destroy, targets=targets)
        path.chmod(0o600)
        return to_plan(self.tf.show_plan(path, destroy=destroy))

    def state(self) -> tuple[StateResource, ...]:
        """init, then the managed resources of the environment's state (none before the first apply)."""
        self.init()
        return self.tf.state()

    def apply(self, plan: Plan) -> dict[str, Any]:
        """Apply the saved plan behind ``plan`` (and nothing else), then refresh the outputs cache."""
        saved = next((c.payload for c in plan.pending if isinstance(c.payload, SavedPlan)), None)
        if saved is not None:
            self.console.info("terraform apply")
            try:
                self.tf.apply(saved.path)
            finally:
                saved.path.unlink(missing_ok=True)
            if saved.destroy:
                self.paths.outputs_file.unlink(missing_ok=True)
                return {}
        return self.refresh_outputs()

    def outputs(self) -> dict[str, Any]:
        """{name: value} for non-sensitive outputs, {name: None} marks sensitive ones (never shown)."""
        self.init()
        return self.refresh_outputs(with_sensitive_names=True)

    def refresh_outputs(self, *, with_sensitive_names: bool = False) -> dict[str, Any]:
        values = self.tf.outputs()
        public = {name: out.value for name, out in values.items() if not out.sensitive}
        save_outputs(self.target, public)
        if with_sensitive_names:
            return {**public, **{name: None for name, out in values.items() if out.sensitive}}
        return public


@contextlib.contextmanager
def scratch_runner(
    target: Target, console: Console, terraform: TerraformFactory | None = None
) -> Iterator[InfraRunner]:
    """A runner on a private copy of infra/ (local state included), for dry runs: `terraform init` writes
    .terraform/ and a lock file, and a plan is saved to a file, none of which may touch the project."""
    real = infra_paths(target)
    with tempfile.TemporaryDirectory(prefix="shipit-dry-run-") as tmp:
        copy = Path(tmp) / "infra"
        if target.infra_dir.is_dir():
            shutil.copytree(target.infra_dir, copy, symlinks=True)
        root = copy / real.root.relative_to(target.infra_dir)
        yield InfraRunner(target, console, terraform, paths=InfraPaths(root=root, work=Path(tmp) / "work"))


def save_outputs(target: Target, outputs: dict[str, Any]) -> Path:
    paths = infra_paths(target)
    paths.work.mkdir(parents=True, exist_ok=True, mode=0o700)
    document = {"environment": target.env_name, "project": target.project, "outputs": outputs}
    tmp = paths.outputs_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, paths.outputs_file)
    return paths.outputs_file


def load_outputs(target: Target) -> dict[str, Any]:
    """The cached non-sensitive Terraform outputs of ``target``'s environment (for the deploy step)."""
    from shipit.boundedread import JSON_LIMIT, FileMissing, read_bounded

    path = infra_paths(target).outputs_file
    again = f"run `shipit infra apply -e {target.env_name}` or `shipit infra output -e {target.env_name}`"
    try:
        document = json.loads(read_bounded(path, str(path), JSON_LIMIT, what="Terraform outputs file"))
    except FileMissing:
        raise UsageError(
            f"no Terraform outputs cached for environment {target.env_name} ({path})", hint=again
        ) from None
    except (ValueError, RecursionError):
        raise UsageError(f"{path}: not a valid Terraform outputs file", hint=again) from None
    if not isinstance(document, dict):
        raise UsageError(f"{path}: not a valid Terraform outputs file", hint=again)
    outputs = document.get("outputs")
    return dict(outputs) if isinstance(outputs, dict) else {}
