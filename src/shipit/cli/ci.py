from __future__ import annotations

from pathlib import Path

import click

from shipit.cli.app import Application, global_options, pass_app

_DEFAULT_PATHS = {"cloudbuild": "cloudbuild.yaml", "github": ".github/workflows/deploy.yml"}


@click.group()
def ci() -> None:
    """CI/CD pipelines that run the same steps as `shipit deploy`."""


@ci.command()
@click.option("--provider", type=click.Choice(["cloudbuild", "github"]), default="cloudbuild", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Default: provider's path.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print instead of writing a file.")
@click.option("--force", is_flag=True, help="Overwrite an existing, different file.")
@click.option("--branch", default="main", show_default=True, help="GitHub: branch that deploys.")
@click.option("--wif-provider", help="GitHub: Workload Identity Federation provider resource name.")
@click.option("--deployer", help="GitHub: deployer service account email.")
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
) -> None:
    """Write cloudbuild.yaml (or a GitHub Actions workflow) whose steps call shipit."""
    from shipit.render import values
    from shipit.render.ci import DEPLOYER_PLACEHOLDER, WIF_PLACEHOLDER, CiOptions, cloudbuild_yaml, github_workflow_yaml
    from shipit.writefile import write_generated

    # Checked before the config is even read: each lands in the generated file.
    branch = values.checked("--branch", values.branch, branch)
    if wif_provider is not None:
        values.checked("--wif-provider", values.wif_provider, wif_provider)
    if deployer is not None:
        values.checked("--deployer", values.email, deployer)
    target = app.target
    options = CiOptions(
        target.env_name,
        wif_provider=wif_provider or WIF_PLACEHOLDER,
        deployer=deployer or DEPLOYER_PLACEHOLDER,
        branch=branch,
    )
    render = cloudbuild_yaml if provider == "cloudbuild" else github_workflow_yaml
    text = render(target.config, options)
    if to_stdout:
        click.echo(text, nl=False)
        return
    path = output or target.root / _DEFAULT_PATHS[provider]
    result = write_generated(path, text, force=force)
    app.console.emit({"path": str(path), "result": result})
    app.console.success(f"{result} {app.display_path(path)}")
