"""`shipit infra` as a subprocess: generate, then plan/apply/output/destroy a local-backend environment.

The generated environment roots need the Google provider, which can't be downloaded here, so the
staging root is replaced by the user with a module of built-in resources (a file without shipit's
header is the user's: generate leaves it alone, and shipit runs whatever the root contains).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.terraform

SECRET = "e2e-secret-value-7731"

CONFIG = """\
version: 1
app: shop
default_environment: staging
environments:
  staging: {project: shop-staging, region: us-central1}
  prod: {project: shop-prod-1, region: europe-west1}
infra: {backend: local}
databases:
  main: {}
services:
  api: {databases: [main], secrets: [STRIPE_KEY]}
"""

USER_ROOT = """\
terraform {
  backend "local" {}
}

variable "db_password" {
  type      = string
  sensitive = true
}

resource "terraform_data" "network" {
  input = "shop-staging-vpc"
}

output "network" {
  value = terraform_data.network.output
}

output "password" {
  value     = var.db_password
  sensitive = true
}
"""


def shipit(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_VAR_db_password": SECRET, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "shipit", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=300,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shipit.yaml").write_text(CONFIG)
    return tmp_path


def test_generate_is_idempotent_and_fmt_clean(project: Path, terraform_bin: str) -> None:
    first = shipit(project, "infra", "generate")
    assert first.returncode == 0, first.stderr
    assert (project / "infra/environments/prod/main.tf").exists()
    again = shipit(project, "infra", "generate", "--json")
    assert again.returncode == 0, again.stderr
    plan = json.loads(again.stdout.splitlines()[0])
    assert all(c["action"] == "no-op" for c in plan["changes"])
    fmt = subprocess.run([terraform_bin, "fmt", "-check", "-recursive"], cwd=project / "infra", capture_output=True)
    assert fmt.returncode == 0


def test_plan_apply_output_destroy(project: Path, terraform_bin: str) -> None:
    assert shipit(project, "infra", "generate").returncode == 0
    (project / "infra/environments/staging/main.tf").write_text(USER_ROOT)
    (project / "infra/environments/staging/outputs.tf").unlink()

    plan = shipit(project, "infra", "plan")
    assert plan.returncode == 0, plan.stderr
    assert "+ create  terraform_data.network" in plan.stdout
    assert "terraform plan" in plan.stderr + plan.stdout  # progress is streamed

    refused = shipit(project, "infra", "apply")
    assert refused.returncode == 2 and "--yes" in refused.stderr

    applied = shipit(project, "infra", "apply", "--yes")
    assert applied.returncode == 0, applied.stderr
    cache = json.loads((project / ".shipit/infra/staging/outputs.json").read_text())
    assert cache["outputs"] == {"network": "shop-staging-vpc"}
    assert not list((project / ".shipit/infra/staging").glob("tfplan*")), "the applied plan file is removed"

    shown = shipit(project, "infra", "output")
    assert shown.returncode == 0
    assert "network = shop-staging-vpc" in shown.stdout
    assert "password = (sensitive)" in shown.stdout
    for result in (plan, applied, shown):
        assert SECRET not in result.stdout + result.stderr

    no_confirm = shipit(project, "infra", "destroy")
    assert no_confirm.returncode == 2
    prod = shipit(project, "infra", "destroy", "-e", "prod", "--yes")
    assert prod.returncode == 2 and "--force" in prod.stderr

    destroyed = shipit(project, "infra", "destroy", "--yes")
    assert destroyed.returncode == 0, destroyed.stderr
    assert "- delete  terraform_data.network" in destroyed.stdout
    assert not (project / ".shipit/infra/staging/outputs.json").exists()


def test_missing_root_says_to_generate(project: Path, terraform_bin: str) -> None:
    result = shipit(project, "infra", "plan")
    assert result.returncode == 2
    assert "shipit infra generate" in result.stderr
