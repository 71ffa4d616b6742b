"""`shipit infra ...`: generate the Terraform, bootstrap its state bucket, plan/apply/output/destroy it."""

from __future__ import annotations

import json
from typing import Any

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app
from shipit.errors import UsageError
from shipit.plan import Plan


@click.group()
def infra() -> None:
    """Terraform for the long-lived infrastructure: Cloud SQL on a private IP, VPC, IAM, secrets."""


def _show(app: Application, plan: Plan) -> None:
    app.console.emit(plan.to_json())
    for line in plan.render_lines(show_noop=app.options.verbose > 0):
        app.console.print(line)


@effect(Effect.WRITES)
@infra.command()
@click.option("--force", is_flag=True, help="Also overwrite shipit-generated files that you edited.")
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
@global_options
@pass_app
def generate(app: Application, force: bool, dry_run: bool) -> None:
    """Write the Terraform module into infra/ (all environments). Your edits and files are kept."""
    from shipit.config import resolve_target
    from shipit.infra.generate import GenerateOptions, apply_files, desired_files, edited_files, plan_files

    loaded = app.loaded
    names = [app.options.env] if app.options.env else loaded.environment_names()
    if app.options.env:
        app.target  # noqa: B018 - checks the environment exists
    # The module is shared, so it is always rendered from every environment.
    targets = [resolve_target(loaded, name) for name in loaded.environment_names()]
    infra_dir = targets[0].infra_dir
    desired = desired_files(targets)
    if app.options.env:
        prefix = "environments/"
        desired = {
            k: v for k, v in desired.items() if not k.startswith(prefix) or k.startswith(prefix + names[0] + "/")
        }
    plan = plan_files(infra_dir, desired, GenerateOptions(force=force))
    _show(app, plan)  # notes included: the diff of each file you edited, once
    if not dry_run:
        apply_files(plan)
    edited = edited_files(plan)
    if edited:
        app.console.warn(f"kept your edits in {', '.join(edited)}; rerun with --force to take shipit's version")
    if not dry_run and plan.has_changes:
        app.console.success(f"wrote {len(plan.pending)} file(s) in {app.display_path(infra_dir)}")


@effect(Effect.REMOTE)
@infra.command()
@click.option("--dry-run", is_flag=True, help="Show what would be created; create nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (required when not on a TTY).")
@global_options
@pass_app
def bootstrap(app: Application, dry_run: bool, yes: bool) -> None:
    """Create the environment's Terraform state bucket (versioned, uniform access, not public)."""
    from shipit.infra import bootstrap as steps
    from shipit.remote import Remote

    target = app.target
    app.require_confirmation(yes=yes, dry_run=dry_run, action="create the state bucket")
    buckets = Remote(target).storage
    plan = steps.plan(target, buckets)
    _show(app, plan)  # notes included
    if not dry_run and plan.has_changes:
        app.confirm(
            f"Create gs://{target.state_bucket} in {target.project}?", yes=yes, action="create the state bucket"
        )
        steps.apply(target, buckets, plan)
        app.console.success(f"state bucket gs://{target.state_bucket} is ready")


def _terraform(lock_timeout: str | None) -> Any:
    from shipit.adapters.terraform import TerraformOptions, default_terraform

    return default_terraform(TerraformOptions(lock_timeout=lock_timeout) if lock_timeout else TerraformOptions())


def _runner(app: Application, lock_timeout: str | None = None) -> Any:
    from shipit.infra.run import InfraRunner

    return InfraRunner(app.target, app.console, _terraform(lock_timeout))


def _dry_run_plan(app: Application, lock_timeout: str | None, *, destroy: bool) -> None:
    """Plan on a private copy of infra/: terraform init and the saved plan write nothing in the project."""
    from shipit.infra.run import scratch_runner

    with scratch_runner(app.target, app.console, _terraform(lock_timeout)) as scratch:
        _show(app, scratch.plan(destroy=destroy))


_lock_timeout = click.option(
    "--lock-timeout", metavar="DURATION", default=None, help="How long to wait for the state lock (default 300s)."
)


@effect(Effect.READ)
@infra.command()
@_lock_timeout
@global_options
@pass_app
def plan(app: Application, lock_timeout: str | None) -> None:
    """Show what `terraform apply` would change in this environment."""
    _show(app, _runner(app, lock_timeout).plan())


@effect(Effect.REMOTE)
@infra.command()
@click.option("-y", "--yes", is_flag=True, help="Apply without asking (required when not on a TTY).")
@click.option("--dry-run", is_flag=True, help="Plan only.")
@_lock_timeout
@global_options
@pass_app
def apply(app: Application, yes: bool, dry_run: bool, lock_timeout: str | None) -> None:
    """Plan, show the plan, then apply exactly that plan; cache the outputs for `shipit deploy`."""
    app.target  # noqa: B018 - a bad shipit.yaml is reported before a missing confirmation
    app.require_confirmation(yes=yes, dry_run=dry_run, action="change infrastructure")
    if dry_run:
        _dry_run_plan(app, lock_timeout, destroy=False)
        app.console.info("dry run: nothing changed")
        return
    runner = _runner(app, lock_timeout)
    result = runner.plan()
    _show(app, result)
    if result.has_changes:
        app.confirm(f"Apply these changes to {app.target.env_name}?", yes=yes, action="change infrastructure")
    outputs = runner.apply(result)
    app.console.emit({"outputs": outputs})
    app.console.success(f"infra of {app.target.env_name} is up to date; outputs cached in {runner.paths.outputs_file}")


@effect(Effect.READ)
@infra.command()
@click.argument("name", required=False)
@global_options
@pass_app
def output(app: Application, name: str | None) -> None:
    """Print the Terraform outputs (sensitive ones are never shown) and refresh the cache."""
    values = _runner(app).outputs()
    if name is not None:
        if name not in values:
            raise UsageError(f"no output named {name}", hint="defined: " + ", ".join(sorted(values)))
        values = {name: values[name]}
    app.console.emit({k: ("(sensitive)" if v is None else v) for k, v in values.items()})
    for key, value in sorted(values.items()):
        text = "(sensitive)" if value is None else json.dumps(value) if not isinstance(value, str) else value
        app.console.print(f"{key} = {text}")


@effect(Effect.REMOTE)
@infra.command()
@click.option("-y", "--yes", is_flag=True, help="Do not ask for the environment name (required when not on a TTY).")
@click.option("--force", is_flag=True, help="Required with --yes for a production environment.")
@click.option("--dry-run", is_flag=True, help="Show what would be destroyed; destroy nothing.")
@_lock_timeout
@global_options
@pass_app
def destroy(app: Application, yes: bool, force: bool, dry_run: bool, lock_timeout: str | None) -> None:
    """Destroy this environment's infrastructure (after showing exactly what goes)."""
    from shipit.errors import Cancelled

    target = app.target
    app.require_confirmation(yes=yes, dry_run=dry_run, action="destroy infrastructure")
    if yes and target.production and not force:
        raise UsageError(
            f"{target.env_name} is a production environment: destroying it needs --yes --force",
            hint="Cloud SQL deletion protection must also be turned off in the environment's main.tf first",
        )
    if dry_run:
        _dry_run_plan(app, lock_timeout, destroy=True)
        app.console.info("dry run: nothing destroyed")
        return
    runner = _runner(app, lock_timeout)
    result = runner.plan(destroy=True)
    _show(app, result)
    if not result.has_changes:
        return
    if not yes:
        app.require_confirmation(yes=yes, action="destroy infrastructure")
        typed = click.prompt(f"Type the environment name ({target.env_name}) to destroy it", err=True)
        if typed.strip() != target.env_name:
            raise Cancelled("cancelled: the name did not match; nothing was destroyed")
    runner.apply(result)
    app.console.success(f"destroyed the infrastructure of {target.env_name}")
