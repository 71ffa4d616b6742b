"""Secrets canary over the whole pipeline: a distinctive secret value, `plan` and `deploy` in every output
mode, and the value must show up nowhere but in Secret Manager's addVersion payload (base64).

Looked for: stdout and stderr of every run, every file the runs wrote (.shipit/, infra/ with the
Terraform state, crash logs), the argv of every process shipit started, the bodies of every request
the fake Google APIs received, and the registry's storage.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from pipeline_support import AUDIT_HOOK, CANARY, CANARY_2, Project, ProjectFactory

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.terraform]

ADD_VERSION = "secretmanager.projects.secrets.addVersion"


def _needles(*values: str) -> list[str]:
    return [form for v in values for form in (v, base64.b64encode(v.encode()).decode())]


def _files_with(root: Path, needles: list[str], skip: set[Path]) -> list[str]:
    found: list[str] = []
    for path in root.rglob("*"):
        if path.is_file() and path not in skip and ".git" not in path.relative_to(root).parts:
            data = path.read_bytes()
            found.extend(f"{path}: {n}" for n in needles if n.encode() in data)
    return found


@pytest.fixture
def project(project_factory: ProjectFactory, tmp_path: Path) -> Project:
    project = project_factory()
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(AUDIT_HOOK)
    project.env.update(
        SHIPIT_TEST_AUDIT_LOG=str(tmp_path / "audit.log"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        PYTHONPATH=os.pathsep.join([str(hooks), project.env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    return project


def test_secret_value_appears_only_in_the_add_version_payload(project: Project, tmp_path: Path) -> None:
    project("plan")
    project("plan", "--json", "-v")
    project("deploy", "--yes", "--json", "-v")
    project.write_env(CANARY_2)
    project("plan", "-v")
    project("deploy", "--yes", "-v")
    project("deploy", "--yes", "--json")
    project.health.status = 500
    project.write_env(CANARY + "-3")
    failed = project("deploy", "--yes", "-v", expect=1)  # a failing release prints more
    assert "health check failed" in failed.stderr

    needles = _needles(CANARY, CANARY_2)
    assert len(project.results) == 7
    for result in project.results:
        leaked = [n for n in needles if n in result.stdout or n in result.stderr]
        assert leaked == [], f"{leaked} in the output of\n{result}"

    files = _files_with(project.root, needles, skip={project.root / ".env"})
    files += _files_with(tmp_path / "state", needles, skip=set()) if (tmp_path / "state").exists() else []
    assert files == []
    assert (project.root / ".shipit").is_dir() and (project.root / "infra/environments/staging").is_dir()

    audit = (tmp_path / "audit.log").read_text()
    assert "docker" in audit and "terraform" in audit  # the hook did see the tools shipit ran
    assert [n for n in needles if n in audit] == []

    added = []
    for call in project.fake.calls:
        body = json.dumps(call.body)
        if call.method_id == ADD_VERSION:
            added.append(base64.b64decode(call.body["payload"]["data"]).decode())
            continue
        leaked = [n for n in needles if n in body or n in call.path or n in json.dumps(call.query)]
        assert leaked == [], f"{leaked} sent to {call.method_id} {call.path}"
    # The first value went in with secrets.create + addVersion, then one new version each.
    assert added == [CANARY, CANARY_2, CANARY + "-3"]

    storage = project.registry.workdir / "data"
    assert _files_with(storage, needles, skip=set()) == []
