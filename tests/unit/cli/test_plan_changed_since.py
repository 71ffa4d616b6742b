"""`shipit plan --changed-since REF` in a real git repository: the services a range affects, and why."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_support import invoke

CONFIG = """\
version: 1
app: mono
default_environment: staging
environments:
  staging: {project: mono-staging, region: us-central1}
  prod: {project: mono-prod, region: europe-west1}
services:
  api:
    build: {context: ./services/api}
  web:
    build: {context: ./services/web, dockerfile: ../../docker/web.Dockerfile, watch: [./libs/ui]}
  worker:
    kind: worker
    build: {context: ./services/worker}
  proxy:
    image: nginx:1.27
    env: {MODE: edge}
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A monorepo whose shipit.yaml sits in a subdirectory (deploy/), with one commit tagged base."""
    root = tmp_path / "deploy"
    write(root, "shipit.yaml", CONFIG)
    for name in ("api", "web", "worker"):
        write(root, f"services/{name}/Dockerfile", "FROM scratch\n")
        write(root, f"services/{name}/main.py", "print('hi')\n")
    write(root, "docker/web.Dockerfile", "FROM scratch\n")
    write(root, "libs/ui/button.js", "export {}\n")
    write(root, "libs/other/x.js", "export {}\n")
    write(tmp_path, "README.md", "monorepo\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    git(tmp_path, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "base")
    git(tmp_path, "tag", "base")
    monkeypatch.chdir(root)
    return root


def commit(repo: Path, message: str) -> None:
    top = repo.parent
    git(top, "add", "-A")
    git(top, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", message)


def changed(*args: str) -> dict[str, list[str]]:
    result = invoke("plan", "--changed-since", *args, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    services: dict[str, list[str]] = document["changed_since"]["services"]
    return services


def test_nothing_changed_lists_no_service(repo: Path) -> None:
    result = invoke("plan", "--changed-since", "base")
    assert result.exit_code == 0, result.output
    assert "0 affected, 4 unchanged" in result.stdout


def test_a_commit_in_a_build_context_affects_that_service_only(repo: Path) -> None:
    write(repo, "services/api/main.py", "print('changed')\n")
    commit(repo, "api")
    assert changed("base") == {"api": ["build context services/api/ (1 file)"]}


def test_uncommitted_and_untracked_files_count(repo: Path) -> None:
    write(repo, "services/worker/new.py", "x = 1\n")  # untracked
    assert list(changed("base")) == ["worker"]
    write(repo, ".gitignore", "*.log\n")
    commit(repo, "ignore logs")
    write(repo, "services/api/debug.log", "noise\n")  # ignored: not a change
    assert list(changed("HEAD")) == []


def test_dockerfile_outside_the_context_and_watched_paths(repo: Path) -> None:
    write(repo, "docker/web.Dockerfile", "FROM scratch\nUSER 1000\n")
    assert changed("base") == {"web": ["Dockerfile docker/web.Dockerfile"]}
    git(repo.parent, "checkout", "-q", "--", ".")
    write(repo, "libs/ui/button.js", "export const b = 1\n")
    write(repo, "libs/other/x.js", "export const x = 2\n")  # watched by no one
    assert changed("base") == {"web": ["watch ./libs/ui (1 file)"]}


def test_a_service_section_of_shipit_yaml(repo: Path) -> None:
    text = CONFIG.replace("env: {MODE: edge}", "env: {MODE: origin}")
    write(repo, "shipit.yaml", text)
    assert changed("base") == {"proxy": ["config (services.proxy)"]}
    overlay = text.replace(
        "  prod: {project: mono-prod, region: europe-west1}",
        "  prod:\n    project: mono-prod\n    region: europe-west1\n    services: {api: {port: 9000}}",
    )
    write(repo, "shipit.yaml", overlay)
    # The prod overlay of api changed: it affects prod, not staging.
    assert changed("base", "-e", "prod") == {
        "api": ["config (environments.prod.services.api)"],
        "proxy": ["config (services.proxy)"],
    }
    assert changed("base", "-e", "staging") == {"proxy": ["config (services.proxy)"]}


def test_a_shared_section_affects_every_service(repo: Path) -> None:
    write(repo, "shipit.yaml", CONFIG.replace("region: us-central1", "region: us-east1"))
    assert sorted(changed("base")) == ["api", "proxy", "web", "worker"]


def test_comments_and_formatting_of_shipit_yaml_affect_nothing(repo: Path) -> None:
    write(
        repo,
        "shipit.yaml",
        "# deployed by CI\n" + CONFIG.replace("{context: ./services/api}", "{context: ./services/api}  # x"),
    )
    assert changed("base") == {}


@pytest.mark.parametrize("ref", ["no-such-branch", "--output=/tmp/x", "base..main"])
def test_a_ref_that_names_no_commit_is_bad_input(repo: Path, ref: str) -> None:
    result = invoke("plan", f"--changed-since={ref}")
    assert result.exit_code == 2, result.output
    assert "--changed-since" in result.stderr
    assert "Traceback" not in result.output


def test_outside_git_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "shipit.yaml", CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = invoke("plan", "--changed-since", "main")
    assert result.exit_code == 2, result.output
    assert "git" in result.stderr
