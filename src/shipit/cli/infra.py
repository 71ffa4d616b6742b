"""`shipit infra ...`: generate the Terraform, bootstrap its state bucket, plan/apply/output/destroy it."""

from __future__ import annotations

import json
from typing import Any

import click

from shipit.cli.app import Application, global_options, pass_app
from shipit.errors import UsageError
from shipit.plan import Plan


@click.group()
def infra() -> None:
    """Terraform for the long-lived infrastructure: Cloud SQL on a private IP, VPC, IAM, secrets."""


def _show(app: Application, plan: Plan) -> None:
    app.console.emit(plan.to_json())
    for line in plan.render_lines(show_noop=app.options.verbose > 0):
        app.console.print(line)


def _confirm(app: Application, question: str, yes: bool) -> None:
    if yes:
        return
    if not app.console.interactive:
        raise UsageError("refusing to change infrastructure without confirmation", hint="pass --yes")
    if not click.confirm(question, default=False, err=app.options.json):
        raise UsageError("cancelled; nothing was changed")


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
    _show(app, plan)
    for note in plan.notes:
        app.console.info(note)
    if not dry_run:
        apply_files(plan)
    edited = edited_files(plan)
    if edited:
        app.console.warn(f"kept your edits in {', '.join(edited)}; rerun with --force to take shipit's version")
    if not dry_run and plan.has_changes:
        app.console.success(f"wrote {len(plan.pending)} file(s) in {app.display_path(infra_dir)}")


@infra.command()
@click.option("--dry-run", is_flag=True, help="Show what would be created; create nothing.")
@global_options
@pass_app
def bootstrap(app: Application, dry_run: bool) -> None:
    """Create the environment's Terraform state bucket (versioned, uniform access, not public)."""
    from shipit.infra import bootstrap as steps
    from shipit.remote import Remote

    target = app.target
    buckets = Remote(target).storage
    plan = steps.plan(target, buckets)
    _show(app, plan)
    for note in plan.notes:
        app.console.info(note)
    if not dry_run and plan.has_changes:
        steps.apply(target, buckets, plan)
        app.console.success(f"state bucket gs://{target.state_bucket} is ready")


def _runner(app: Application, lock_timeout: str | None = None) -> Any:
    from shipit.adapters.terraform import TerraformOptions, default_terraform
    from shipit.infra.run import InfraRunner

    options = TerraformOptions(lock_timeout=lock_timeout) if lock_timeout else TerraformOptions()
    return InfraRunner(app.target, app.console, default_terraform(options))


_lock_timeout = click.option(
    "--lock-timeout", metavar="DURATION", default=None, help="How long to wait for the state lock (default 300s)."
)


@infra.command()
@_lock_timeout
@global_options
@pass_app
def plan(app: Application, lock_timeout: str | None) -> None:
    """Show what `terraform apply` would change in this environment."""
    runner = _runner(app, lock_timeout)
    result = runner.plan()
    _show(app, result)


@infra.command()
@click.option("-y", "--yes", is_flag=True, help="Apply without asking.")
@click.option("--dry-run", is_flag=True, help="Plan only.")
@_lock_timeout
@global_options
@pass_app
def apply(app: Application, yes: bool, dry_run: bool, lock_timeout: str | None) -> None:
    """Plan, show the plan, then apply exactly that plan; cache the outputs for `shipit deploy`."""
    runner = _runner(app, lock_timeout)
    result = runner.plan()
    _show(app, result)
    if dry_run:
        return
    if result.has_changes:
        _confirm(app, f"Apply these changes to {app.target.env_name}?", yes)
    outputs = runner.apply(result)
    app.console.emit({"outputs": outputs})
    app.console.success(f"infra of {app.target.env_name} is up to date; outputs cached in {runner.paths.outputs_file}")


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


@infra.command()
@click.option("-y", "--yes", is_flag=True, help="Do not ask for the environment name.")
@click.option("--force", is_flag=True, help="Required with --yes for a production environment.")
@_lock_timeout
@global_options
@pass_app
def destroy(app: Application, yes: bool, force: bool, lock_timeout: str | None) -> None:
    """Destroy this environment's infrastructure (after showing exactly what goes)."""
    target = app.target
    if yes and target.production and not force:
        raise UsageError(
            f"{target.env_name} is a production environment: destroying it needs --yes --force",
            hint="Cloud SQL deletion protection must also be turned off in the environment's main.tf first",
        )
    runner = _runner(app, lock_timeout)
    result = runner.plan(destroy=True)
    _show(app, result)
    if not result.has_changes:
        return
    if not yes:
        if not app.console.interactive:
            raise UsageError("refusing to destroy without confirmation", hint="pass --yes (and --force for production)")
        typed = click.prompt(f"Type the environment name ({target.env_name}) to destroy it", err=app.options.json)
        if typed.strip() != target.env_name:
            raise UsageError("the name did not match; nothing was destroyed")
    runner.apply(result)
    app.console.success(f"destroyed the infrastructure of {target.env_name}")
