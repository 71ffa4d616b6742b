"""The preview workflow `shipit ci generate --provider github --previews` writes, run as generated: the
pull-request job deploys a preview of the changed api (real build and push, fake Cloud Run), hands its URLs
to the comment step through $GITHUB_OUTPUT, and the closed-PR job deletes it. Base traffic never moves."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from pipeline_support import Project, ProjectFactory

from e2e.pipeline.test_ci_pipelines import ENV, Pipeline

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.terraform]


class PreviewPipeline(Pipeline):
    def __init__(self, project: Project, tmp: Path) -> None:
        super().__init__(project, "github", tmp)
        project("ci", "generate", "--provider", "github", "--previews", "--force")
        self.preview: dict[str, Any] = yaml.safe_load((project.root / ".github/workflows/preview.yml").read_text())
        project.git("add", "-A")
        project.git("commit", "-q", "-m", "preview workflow")

    def run_job(self, name: str, number: int) -> dict[str, Any]:
        """Run one job of the preview workflow for pull request ``number``; what its steps left behind."""
        job = self.preview["jobs"][name]
        assert job["env"]["SHIPIT_PREVIEW"] == "pr-${{ github.event.pull_request.number }}"
        workspace, sha = self.clone()
        output = self.tmp / f"github-output-{name}-{self.runs}"
        output.touch()
        seen: dict[str, Any] = {"comments": []}
        env = {"SHIPIT_ENV": ENV, "SHIPIT_PREVIEW": f"pr-{number}", "SHIPIT_GIT_SHA": sha, "GITHUB_OUTPUT": str(output)}
        for step in job["steps"]:
            uses = step.get("uses", "")
            if uses == "actions/github-script@v7":
                # Handled: the script posts a comment through GitHub's API; here, what it would read.
                assert step["env"] == {"PREVIEW_URLS": "${{ steps.preview.outputs.preview_urls }}"}
                outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
                seen["comments"].append(json.loads(outputs["preview_urls"]))
                continue
            if uses:
                # checkout, auth, setup-* as the deploy workflow's test handles them.
                assert uses.split("@")[0] in (
                    "actions/checkout",
                    "google-github-actions/auth",
                    "google-github-actions/setup-gcloud",
                    "hashicorp/setup-terraform",
                    "actions/setup-python",
                    "google-github-actions/get-secretmanager-secrets",
                ), uses
                continue
            command = step["run"]
            if command.startswith("pip install "):
                self.install(command, workspace)
                continue
            assert shlex.split(command)[0] == "shipit"
            self._run(["bash", "-c", command], workspace, {**env, **step.get("env", {})}, f"step {step['name']}")
        seen["workspace"] = workspace
        return seen


def test_a_pull_request_gets_a_preview_then_loses_it(project_factory: ProjectFactory, tmp_path: Path) -> None:
    project = project_factory()
    project("secrets", "sync", "--yes")
    project("deploy", "--yes")
    base = {n: project.serving(n) for n in ("api", "web")}
    pipeline = PreviewPipeline(project, tmp_path)

    project.change_api("pull request 7")
    project.git("commit", "-qam", "change api")
    opened = pipeline.run_job("deploy", 7)
    (urls,) = opened["comments"]
    assert urls["api"].startswith("https://pr-7---api-")
    assert {n: project.serving(n) for n in ("api", "web")} == base
    tags = {t.get("tag") for t in project.service("api")["traffic"]}
    assert "pr-7" in tags
    assert json.loads((opened["workspace"] / ".shipit" / "previews" / "pr-7.json").read_text())["urls"] == urls

    pipeline.run_job("delete", 7)
    assert "pr-7" not in {t.get("tag") for t in project.service("api")["traffic"]}
    assert {n: project.serving(n) for n in ("api", "web")} == base
