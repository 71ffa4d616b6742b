"""The `shipit` command. Subcommands are imported only when invoked, so `shipit --help` stays instant."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from shipit import __version__
from shipit.cli.app import Application, global_options

# name -> "module:attribute". Register only commands that work.
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("shipit.cli.plan:plan", "Show every step's plan for an environment; no writes (--offline: no calls)."),
    "deploy": (
        "shipit.cli.deploy:deploy",
        "Test, build, push, secrets, infra, migrate, Cloud Run services, workers and jobs, verify.",
    ),
    "validate": ("shipit.cli.validate:validate", "Check shipit.yaml and report every problem at once."),
    "config": ("shipit.cli.config:config", "Show the resolved configuration of an environment."),
    "schema": ("shipit.cli.schema:schema", "Print the JSON Schema of shipit.yaml."),
    "local": ("shipit.cli.local:local", "Run the stack locally (compose or native) from shipit.yaml."),
    "infra": ("shipit.cli.infra:infra", "Generate and run the Terraform: Cloud SQL, VPC, IAM, secrets."),
    "secrets": ("shipit.cli.secrets:secrets", "Sync the env file into Secret Manager; diff, list, pull."),
    "init": ("shipit.cli.init:init", "Detect the stack and write shipit.yaml, Dockerfiles, .env.example."),
    "doctor": ("shipit.cli.doctor:doctor", "Check docker, terraform, credentials, APIs and permissions."),
    "build": ("shipit.cli.build:build", "Build production images, tagged by content; skip what exists."),
    "push": ("shipit.cli.push:push", "Push images to Artifact Registry (creating it if missing); record digests."),
    "dockerfile": ("shipit.cli.dockerfile:dockerfile", "Write a production multi-stage Dockerfile + .dockerignore."),
    "ci": ("shipit.cli.ci:ci", "Generate cloudbuild.yaml or a GitHub Actions workflow."),
    "services": ("shipit.cli.services:services", "Deploy the Cloud Run services (plan, diff, safe rollout)."),
    "status": ("shipit.cli.status:status", "URL, revision, traffic, image and drift of each service and worker."),
    "logs": ("shipit.cli.logs:logs", "Read or follow the Cloud Logging entries of services, workers and jobs."),
    "jobs": ("shipit.cli.jobs:jobs", "List the Cloud Run jobs of shipit.yaml, or run one (--wait for its result)."),
    "rollback": ("shipit.cli.rollback:rollback", "Move traffic back to the previous ready revision."),
    "preview": (
        "shipit.cli.preview:preview",
        "List or delete preview environments (deploy one: `shipit deploy --preview NAME`).",
    ),
    "promote": ("shipit.cli.promote:promote", "Send all traffic to the latest revision (after --canary)."),
    "destroy": (
        "shipit.cli.destroy:destroy",
        "Delete what shipit created for an environment (data only with --include-data).",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attr = COMMANDS[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from the table above so listing commands imports none of them.
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@global_options
@click.version_option(__version__, "--version", prog_name="shipit")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """shipit: from docker-compose on a laptop to production on Google Cloud, from one shipit.yaml.

    \b
    Exit codes: 0 ok, 1 a step failed, 2 bad input or usage, 130 interrupted.
    Shell completion: eval "$(_SHIPIT_COMPLETE=bash_source shipit)" (zsh_source, fish_source).
    """
    ctx.ensure_object(Application)


def main(argv: list[str] | None = None, app: Application | None = None) -> Any:
    from shipit.cli.error_handler import error_handler

    app = app or Application()
    args = sys.argv[1:] if argv is None else argv
    # The handler needs -v/--json before click has parsed them, to format early failures.
    verbose = sum(a in ("-v", "--verbose") or (a.startswith("-v") and set(a[1:]) == {"v"}) for a in args)
    with error_handler(verbose=verbose, json_mode="--json" in args):
        return cli.main(args=args, prog_name="shipit", obj=app, standalone_mode=False)
