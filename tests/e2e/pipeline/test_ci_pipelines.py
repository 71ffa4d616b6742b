"""The pipelines `shipit ci generate` writes, run as generated: every step in order, each as its own process,
in a fresh clone of the project, against the fake Google APIs, the real registry, Docker and Terraform.

Cloud Build steps share only ``/workspace`` (the clone): each step here gets its own empty HOME, so what a
step hands to the next must be in the checkout (the state file ``.shipit/state/ENV.json``).

shipit itself is installed into a virtualenv with ``pip install`` of the requirement the generated file
names (here: this source tree, since the tests run shipit from it; the generator warns about exactly that).
Steps that cannot run on this machine are handled one by one below, each with its reason; an unknown step
fails the test instead of being skipped.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pipeline_support import PARENT, Project, ProjectFactory

from shipit.render.ci import TERRAFORM_SHA256, TERRAFORM_VERSION

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.terraform]

ROOT = Path(__file__).resolve().parents[3]
ENV = "staging"


class Pipeline:
    """One provider's generated pipeline, run in clones of ``project``."""

    def __init__(self, project: Project, provider: str, tmp: Path) -> None:
        self.project, self.provider, self.tmp = project, provider, tmp
        generated = project("ci", "generate", "--provider", provider, "--force")
        # The tests run shipit from this source tree: the generated file installs from it, and says so.
        assert f"shipit runs from the local directory {ROOT}" in generated.stderr, str(generated)
        name = "cloudbuild.yaml" if provider == "cloudbuild" else ".github/workflows/deploy.yml"
        self.text = (project.root / name).read_text()
        assert f"# WARNING: shipit runs from the local directory {ROOT}" in self.text
        self.document: dict[str, Any] = yaml.safe_load(self.text)
        project.git("add", "-A")
        project.git("commit", "-q", "-m", f"{provider} pipeline")
        self.venv = tmp / "venv"
        self.runs = 0

    # -- the machine the steps run on -----------------------------------------------------------------
    def _env(self, home: Path, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in self.project.env.items() if k not in ("PYTHONPATH", "HOME", "SHIPIT_GIT_SHA")}
        env["HOME"] = str(home)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra)
        return env

    def _run(self, argv: list[str], cwd: Path, extra: dict[str, str], what: str) -> str:
        self.runs += 1
        home = self.tmp / f"home-{self.runs}"  # nothing survives between steps but the checkout
        home.mkdir()
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=self._env(home, extra),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, f"{what} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout + proc.stderr

    def install(self, pip_line: str, cwd: Path) -> None:
        """The generated `pip install REQUIREMENT`, offline: dependencies come from this interpreter."""
        if not self.venv.exists():
            subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(self.venv)], check=True)
        # pip reads PIP_NO_BUILD_ISOLATION=0 as --no-build-isolation; no index: nothing comes from the network.
        self._run(["bash", "-c", pip_line], cwd, {"PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"}, pip_line)
        probe = [str(self.venv / "bin" / "python"), "-c", "import shipit; print(shipit.__file__)"]
        where = subprocess.run(probe, capture_output=True, text=True, check=True, env={"PATH": ""}).stdout
        assert where.startswith(str(self.venv)), f"shipit not installed into the venv: {where}"

    def clone(self) -> tuple[Path, str]:
        workspace = self.tmp / f"workspace-{self.runs}"
        subprocess.run(["git", "clone", "-q", str(self.project.root), str(workspace)], check=True)
        sha = self.project.git("rev-parse", "HEAD")
        return workspace, sha

    # -- the providers --------------------------------------------------------------------------------
    def run(self) -> Path:
        return self._cloudbuild() if self.provider == "cloudbuild" else self._github()

    def _cloudbuild(self) -> Path:
        workspace, sha = self.clone()  # Cloud Build's source fetch into /workspace
        document = self.document
        substitutions = {"_ENV": ENV, "COMMIT_SHA": sha, "PROJECT_ID": "acme-staging", **document["substitutions"]}
        substitutions["_ENV"] = ENV

        def subst(value: str) -> str:
            return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: substitutions[m.group(1) or m.group(2)], value)

        steps = document["steps"]
        builder = steps[0]
        assert builder["id"] == "builder"
        image = subst(steps[1]["name"])
        script = builder["args"][1]
        # Handled: the builder step needs Docker Hub (python:3.12-slim), releases.hashicorp.com and PyPI,
        # none reachable here. What it would put in the image is checked, then provided directly: the
        # same `pip install` line into the venv, the engine's Terraform on PATH, the test's Docker engine.
        assert f'echo "{TERRAFORM_SHA256}  /tmp/tf.zip" | sha256sum -c -' in script
        assert f"terraform_{TERRAFORM_VERSION}_linux_amd64.zip" in script
        assert 'docker pull "$image"' in script and 'docker push "$image"' in script
        assert f'image="{steps[1]["name"]}"' in script
        assert re.search(r"/shipit-builder:0\.1\.0-tf1\.11\.4-[0-9a-f]{12}$", image), image
        pip_line = next(line for line in script.splitlines() if line.startswith("RUN pip install"))
        if not self.venv.exists():  # later runs pull the cached builder image: nothing is installed again
            self.install(pip_line.removeprefix("RUN "), workspace)
        for step in steps[1:]:
            assert subst(step["name"]) == image and step["entrypoint"] == "shipit"
            env = dict(item.split("=", 1) for item in step.get("env", []))
            env = {k: subst(v) for k, v in env.items()}
            args = [subst(a) for a in step["args"]]
            assert "secretEnv" not in step  # the sample has no build or test secrets
            self._run(["shipit", *args], workspace, env, f"step {step['id']}")
            if step["id"] == "build-infra-push":
                pushed = json.loads((workspace / ".shipit" / "state" / f"{ENV}.json").read_text())
                assert set(pushed["steps"]["push"]["result"]["images"]) == {"api", "web"}
        return workspace

    def _github(self) -> Path:
        job = self.document["jobs"]["deploy"]
        workspace: Path | None = None
        sha = ""
        handled: dict[str, Callable[[dict[str, Any]], None]] = {}

        def checkout(step: dict[str, Any]) -> None:
            nonlocal workspace, sha
            workspace, sha = self.clone()

        def auth(step: dict[str, Any]) -> None:
            # Handled: Workload Identity Federation needs GitHub's OIDC token; here the access token for
            # the fake comes from CLOUDSDK_AUTH_ACCESS_TOKEN, the variable the auth action would set up.
            assert step["with"]["workload_identity_provider"].startswith("projects/")

        def setup_gcloud(step: dict[str, Any]) -> None:
            # Handled: shipit calls the REST APIs itself; no gcloud command runs in the workflow.
            assert not any("gcloud" in s.get("run", "") for s in job["steps"])

        def setup_terraform(step: dict[str, Any]) -> None:
            # Handled: no download here; the engine's Terraform is on PATH (shipit finds `terraform`).
            assert step["with"] == {"terraform_version": TERRAFORM_VERSION, "terraform_wrapper": False}

        def setup_python(step: dict[str, Any]) -> None:
            # Handled: the venv created from this interpreter stands for the runner's Python.
            assert step["with"]["python-version"] == "3.12"

        handled = {
            "actions/checkout@v4": checkout,
            "google-github-actions/auth@v2": auth,
            "google-github-actions/setup-gcloud@v2": setup_gcloud,
            "hashicorp/setup-terraform@v3": setup_terraform,
            "actions/setup-python@v5": setup_python,
        }
        for step in job["steps"]:
            if "uses" in step:
                assert step["uses"] in handled, f"unhandled step {step['uses']}"
                handled[step["uses"]](step)
                continue
            assert workspace is not None
            command = step["run"]
            if command.startswith("pip install "):
                self.install(command, workspace)
                continue
            env = {
                "SHIPIT_ENV": ENV,  # ${{ vars.SHIPIT_ENV || 'staging' }} with no repository variable set
                "SHIPIT_GIT_SHA": sha,
                **{k: str(v) for k, v in step.get("env", {}).items()},
            }
            assert job["env"]["SHIPIT_ENV"] == "${{ vars.SHIPIT_ENV || '" + ENV + "' }}"
            assert shlex.split(command)[0] == "shipit"
            self._run(["bash", "-c", command], workspace, env, f"step {step['name']}")
        assert workspace is not None
        return workspace


def _images(project: Project) -> dict[str, str]:
    return {n: project.service(n)["template"]["containers"][0]["image"] for n in ("api", "web")}


@pytest.mark.parametrize("provider", ["cloudbuild", "github"])
def test_generated_pipeline_deploys_pushed_digests_then_changes_then_nothing(
    provider: str, project_factory: ProjectFactory, tmp_path: Path
) -> None:
    project = project_factory()
    # Operators sync application secrets (the .env file is not in the repository, nor in CI).
    project("secrets", "sync", "--yes")
    pipeline = Pipeline(project, provider, tmp_path)

    # 1. First run: the services run exactly the digests the pipeline pushed.
    workspace = pipeline.run()
    state = json.loads((workspace / ".shipit" / "state" / f"{ENV}.json").read_text())
    pushed = state["steps"]["push"]["result"]["images"]
    assert _images(project) == pushed
    for name, ref in pushed.items():
        assert ref.startswith(f"{project.registry.host}/acme-staging/{project.repository}/{name}@sha256:")
        assert project.manifest(name, ref.rsplit("@", 1)[1])[0] == 200
    assert state["steps"]["services"]["result"]["services"]["api"]["ok"] is True
    assert project.fake.run.jobs.jobs[f"{PARENT}/jobs/acme-migrate-main"]

    # 2. A code change, committed: the next run deploys the new api digest; web stays.
    project.change_api("changed")
    project.git("commit", "-qam", "change api")
    pipeline.run()
    after = _images(project)
    assert after["api"] != pushed["api"] and after["web"] == pushed["web"]

    # 3. Nothing changed: no write to Google APIs, no upload to the registry.
    project.fake.reset_calls()
    files = project.registry_files()
    pipeline.run()
    assert project.mutating() == []
    assert project.registry_files() == files, "the registry received an upload"
    assert _images(project) == after
