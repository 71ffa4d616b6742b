"""`--dry-run` has no side effects: the project tree is byte-identical after it, even where Terraform
must run (`terraform init` writes .terraform/ and a lock file; a saved plan goes to .shipit/)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cli_runner import invoke

pytestmark = pytest.mark.terraform

CONFIG = """\
version: 1
app: shop
environments:
  staging: {project: shop-staging, region: us-central1}
infra: {backend: local}
services:
  api: {image: us-central1-docker.pkg.dev/shop-staging/shop/api@sha256:%s}
""" % ("a" * 64)
ROOT_MODULE = """\
terraform {
  backend "local" {}
}

resource "terraform_data" "network" {
  input = "shop-vpc"
}
"""


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terraform_bin: str) -> Path:
    (tmp_path / "shipit.yaml").write_text(CONFIG)
    root = tmp_path / "infra" / "environments" / "staging"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(ROOT_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [("deploy", "--dry-run", "--only", "infra"), ("infra", "apply", "--dry-run"), ("infra", "destroy", "--dry-run")],
    ids=["deploy", "infra-apply", "infra-destroy"],
)
def test_dry_run_leaves_the_project_byte_identical(project: Path, args: tuple[str, ...]) -> None:
    if args[1] == "destroy":
        assert invoke("infra", "apply", "--yes").exit_code == 0
    before = tree(project)
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "terraform_data.network" in result.stdout
    assert tree(project) == before


def test_whole_deploy_dry_run_leaves_the_project_byte_identical(
    project: Path, fake_gcp_mock: object, gcp_token: str
) -> None:
    before = tree(project)
    result = invoke("deploy", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "terraform_data.network" in result.stdout and "service api" in result.stdout
    assert tree(project) == before
