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
@click.option(
    "--previews/--no-previews",
    default=None,
    help="GitHub: also write the preview-per-pull-request workflow (default: ci.previews).",
)
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
    previews: bool | None,
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
    with_previews = target.config.ci.previews if previews is None else previews
    if with_previews and provider != "github":
        if previews:
            from shipit.errors import UsageError

            raise UsageError("--previews needs --provider github", hint="or drop --previews")
        with_previews = False
    extra: list[tuple[Path, str]] = []
    if with_previews:
        from shipit.render.ci_preview import github_preview_workflow_yaml

        base = output or target.root / _DEFAULT_PATHS[provider]
        extra.append((base.parent / "preview.yml", github_preview_workflow_yaml(target.config, options)))
    if install.warning:
        app.console.warn(install.warning)
    left = placeholders(text)
    if left:
        how = {"PROJECT_NUMBER": "--wif-provider", "PROJECT_ID": "--deployer"}
        listed = ", ".join(f"{p} (pass {how[p]})" for p in left)
        app.console.warn(f"placeholders left in the {provider} pipeline: {listed}")
    if to_stdout:
        if app.options.json:
            app.console.emit({"provider": provider, "text": text, "previews": extra[0][1] if extra else None})
        else:
            click.echo(text, nl=False)
            for _, more in extra:
                click.echo("---\n" + more, nl=False)
        return
    path = output or target.root / _DEFAULT_PATHS[provider]
    if dry_run:
        with preview():
            result = write_generated(path, text, force=force)
        app.console.emit({"path": str(path), "result": result, "dry_run": True, "text": text})
        app.console.print(text.rstrip("\n"))
        app.console.info(f"dry run: {result} {app.display_path(path)}; nothing written")
        for extra_path, extra_text in extra:
            with preview():
                extra_result = write_generated(extra_path, extra_text, force=force)
            app.console.print(extra_text.rstrip("\n"))
            app.console.info(f"dry run: {extra_result} {app.display_path(extra_path)}; nothing written")
        return
    result = write_generated(path, text, force=force)
    extra_results = {str(p): write_generated(p, t, force=force) for p, t in extra}
    app.console.emit(
        {"path": str(path), "result": result, "dry_run": False, "install": install.requirement, "placeholders": left}
        | ({"previews": extra_results} if extra else {})
    )
    app.console.success(f"{result} {app.display_path(path)}")
    for written, written_result in extra_results.items():
        app.console.success(f"{written_result} {app.display_path(Path(written))}")
