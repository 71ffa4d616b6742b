from __future__ import annotations

from pathlib import Path

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app

_DEFAULT_PATHS = {"cloudbuild": "cloudbuild.yaml", "github": ".github/workflows/deploy.yml"}


@click.group()
def ci() -> None:
    """CI/CD pipelines that run the same steps as `shipit deploy`."""


@effect(Effect.WRITES)
@ci.command()
@click.option("--provider", type=click.Choice(["cloudbuild", "github"]), default="cloudbuild", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Default: provider's path.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print instead of writing a file.")
@click.option("--force", is_flag=True, help="Overwrite an existing, different file.")
@click.option("--branch", default="main", show_default=True, help="GitHub: branch that deploys.")
@click.option("--wif-provider", help="GitHub: Workload Identity Federation provider resource name.")
@click.option("--deployer", help="GitHub: deployer service account email.")
@click.option("--dry-run", is_flag=True, help="Print the pipeline and say what would be written; write nothing.")
@global_options
@pass_app
def generate(
    app: Application,
    provider: str,
    output: Path | None,
    to_stdout: bool,
    force: bool,
    branch: str,
    wif_provider: str | None,
    deployer: str | None,
    dry_run: bool,
) -> None:
    """Write cloudbuild.yaml (or a GitHub Actions workflow) whose steps call shipit.

    shipit is installed from ci.install (a pinned requirement), else from where the running shipit came
    from; a local or unpinned source, and placeholders left to replace, are reported on stderr.
    """
    from dataclasses import replace

    from shipit import values
    from shipit.render.ci import CiOptions, cloudbuild_yaml, github_workflow_yaml, placeholders
    from shipit.render.ci_install import install_spec
    from shipit.writefile import preview, write_generated

    # Checked before the config is even read: each lands in the generated file.
    branch = values.checked("--branch", values.branch, branch)
    if wif_provider is not None:
        values.checked("--wif-provider", values.wif_provider, wif_provider)
    if deployer is not None:
        values.checked("--deployer", values.email, deployer)
    target = app.target
    install = install_spec(target.config.ci.install)
    options = CiOptions(default_env=target.env_name, branch=branch, install=install)
    if wif_provider:
        options = replace(options, wif_provider=wif_provider)
    if deployer:
        options = replace(options, deployer=deployer)
    render = cloudbuild_yaml if provider == "cloudbuild" else github_workflow_yaml
    text = render(target.config, options)
    if install.warning:
        app.console.warn(install.warning)
    left = placeholders(text)
    if left:
        how = {"PROJECT_NUMBER": "--wif-provider", "PROJECT_ID": "--deployer"}
        listed = ", ".join(f"{p} (pass {how[p]})" for p in left)
        app.console.warn(f"placeholders left in the {provider} pipeline: {listed}")
    if to_stdout:
        if app.options.json:
            app.console.emit({"provider": provider, "text": text})
        else:
            click.echo(text, nl=False)
        return
    path = output or target.root / _DEFAULT_PATHS[provider]
    if dry_run:
        with preview():
            result = write_generated(path, text, force=force)
        app.console.emit({"path": str(path), "result": result, "dry_run": True, "text": text})
        app.console.print(text.rstrip("\n"))
        app.console.info(f"dry run: {result} {app.display_path(path)}; nothing written")
        return
    result = write_generated(path, text, force=force)
    app.console.emit(
        {"path": str(path), "result": result, "dry_run": False, "install": install.requirement, "placeholders": left}
    )
    app.console.success(f"{result} {app.display_path(path)}")
