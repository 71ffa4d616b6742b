"""The pull-request preview workflow `shipit ci generate --provider github` writes with ci.previews/--previews."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click
import yaml

from cli_runner import invoke
from shipit.cli.main import cli

ROOT = Path(__file__).resolve().parents[3]


def _project(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "shipit.yaml"
    config.write_text((ROOT / "examples/fullstack/shipit.yaml").read_text() + extra)
    return config


def _parses(line: str) -> list[str]:
    """The shipit argv of a `run:` line, checked by click's own parser (nothing runs)."""
    words = [{"$SHIPIT_ENV": "staging", "$SHIPIT_PREVIEW": "pr-1"}.get(w, w) for w in shlex.split(line)]
    assert words[0] == "shipit"
    group: Any = cli
    ctx = click.Context(cli)
    args = words[1:]
    while isinstance(group, click.Group):
        name, group, args = group.resolve_command(ctx, args)
        ctx = click.Context(group, parent=ctx, info_name=name)
    group.parse_args(ctx, list(args))
    return words


def test_ci_previews_writes_a_pull_request_workflow(tmp_path: Path) -> None:
    config = _project(tmp_path, "ci: {previews: true}\n")
    result = invoke("-f", str(config), "ci", "generate", "--provider", "github")
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".github/workflows/deploy.yml").is_file()
    workflow = yaml.safe_load((tmp_path / ".github/workflows/preview.yml").read_text())
    assert workflow["on"]["pull_request"]["types"] == ["opened", "synchronize", "reopened", "closed"]
    assert workflow["permissions"]["pull-requests"] == "write"
    deploy, delete = workflow["jobs"]["deploy"], workflow["jobs"]["delete"]
    assert deploy["if"] == "github.event.action != 'closed'" and delete["if"] == "github.event.action == 'closed'"
    assert deploy["env"]["SHIPIT_PREVIEW"] == "pr-${{ github.event.pull_request.number }}"
    step = next(s for s in deploy["steps"] if s.get("id") == "preview")
    assert _parses(step["run"])[1:4] == ["deploy", "--env", "staging"] and "--preview" in step["run"]
    comment = next(s for s in deploy["steps"] if s.get("name") == "comment")
    # The URLs reach the script through the environment, never pasted into its text.
    assert comment["env"]["PREVIEW_URLS"] == "${{ steps.preview.outputs.preview_urls }}"
    assert "${{" not in comment["with"]["script"]
    (removal,) = [s["run"] for s in delete["steps"] if str(s.get("run", "")).startswith("shipit")]
    assert _parses(removal)[1:4] == ["preview", "delete", "pr-1"]


def test_the_flag_overrides_the_config_and_needs_github(tmp_path: Path) -> None:
    config = _project(tmp_path, "ci: {previews: true}\n")
    off = invoke("-f", str(config), "ci", "generate", "--provider", "github", "--no-previews")
    assert off.exit_code == 0, off.output
    assert not (tmp_path / ".github/workflows/preview.yml").exists()
    plain = _project(tmp_path)
    on = invoke("-f", str(plain), "ci", "generate", "--provider", "github", "--previews", "--stdout")
    assert on.exit_code == 0 and "shipit preview delete" in on.stdout
    cloudbuild = invoke("-f", str(plain), "ci", "generate", "--previews")
    assert cloudbuild.exit_code == 2 and "--provider github" in cloudbuild.stderr
