"""The GitHub Actions workflow of preview environments (``ci.previews: true`` or `ci generate --previews`).

On a pull request opened, synchronized or reopened: `shipit deploy --preview pr-N` (tests, build, push, then
the changed services as revisions with no traffic under the tag ``pr-N``), and the URLs it writes to
``$GITHUB_OUTPUT`` posted as a comment. On close: `shipit preview delete pr-N`. The URLs reach the comment
script through an environment variable, never pasted into the script (no expression injection).
"""

from __future__ import annotations

from typing import Any

from shipit.config.models import ShipitConfig
from shipit.render.ci import CiOptions, dump_workflow, env_expression, github_setup_steps

PREVIEW_WORKFLOW = ".github/workflows/preview.yml"
PREVIEW_NAME = "pr-${{ github.event.pull_request.number }}"

_COMMENT = """\
const urls = JSON.parse(process.env.PREVIEW_URLS || '{}');
const lines = Object.entries(urls).map(([service, url]) => `- ${service}: ${url}`);
const body = `Preview \\`${process.env.SHIPIT_PREVIEW}\\` of ${process.env.SHIPIT_ENV}:\\n` +
  (lines.length ? lines.join('\\n') : 'no service differs from the base environment');
await github.rest.issues.createComment({
  owner: context.repo.owner, repo: context.repo.repo, issue_number: context.issue.number, body,
});
"""


def github_preview_workflow(config: ShipitConfig, options: CiOptions) -> dict[str, Any]:
    setup, secret_env = github_setup_steps(config, options)
    env = {
        "SHIPIT_ENV": env_expression(options),
        "SHIPIT_PREVIEW": PREVIEW_NAME,
        "SHIPIT_GIT_SHA": "${{ github.event.pull_request.head.sha }}",
    }
    deploy: dict[str, Any] = {
        "id": "preview",
        "name": "preview",
        "run": 'shipit deploy --env "$SHIPIT_ENV" --preview "$SHIPIT_PREVIEW" --yes --json',
    }
    if secret_env:
        deploy["env"] = dict(secret_env)
    comment = {
        "name": "comment",
        "uses": "actions/github-script@v7",
        "env": {"PREVIEW_URLS": "${{ steps.preview.outputs.preview_urls }}"},
        "with": {"script": _COMMENT},
    }
    delete = {"name": "delete", "run": 'shipit preview delete "$SHIPIT_PREVIEW" --env "$SHIPIT_ENV" --yes --json'}
    return {
        "name": "preview",
        "on": {"pull_request": {"types": ["opened", "synchronize", "reopened", "closed"]}},
        "permissions": {"contents": "read", "id-token": "write", "pull-requests": "write"},
        "concurrency": {"group": "preview-${{ github.event.pull_request.number }}", "cancel-in-progress": False},
        "jobs": {
            "deploy": {
                "if": "github.event.action != 'closed'",
                "runs-on": "ubuntu-latest",
                "env": env,
                "steps": [*setup, deploy, comment],
            },
            "delete": {
                "if": "github.event.action == 'closed'",
                "runs-on": "ubuntu-latest",
                "env": env,
                "steps": [*setup[: len(setup) - (1 if secret_env else 0)], delete],
            },
        },
    }


def github_preview_workflow_yaml(config: ShipitConfig, options: CiOptions) -> str:
    return dump_workflow(github_preview_workflow(config, options), config, options)
