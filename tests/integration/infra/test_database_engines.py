"""Per-engine expressions of the generated module (Cloud SQL version, DATABASE_URL shape), evaluated by terraform.

The module computes both in `locals` so that the real binary can check them offline: the version string
must be the one Engine.cloud_sql_version gives (which the provider contract test checks against the
provider's documented values), and the URL the shape each engine's drivers accept.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from infra_support import CONFIGS, generate, targets_of, write_config

from shipit.config.database_engines import engine

pytestmark = pytest.mark.terraform

PROBE = """
output "versions" { value = local.database_versions }
output "pitr" { value = local.point_in_time_recovery }
output "mysql" { value = keys(local.mysql_databases) }
output "urls" {
  value = {
    for name, db in var.databases : name => format(
      local.database_url_formats[name], db.user, "PW", "10.1.2.3", db.database
    )
  }
}
"""


def test_engine_locals_evaluate_to_cloud_sql_versions_and_driver_urls(tmp_path: Path, terraform_bin: str) -> None:
    targets = targets_of(write_config(tmp_path, CONFIGS["mysql-and-postgres"]))
    generated = generate(targets)
    target = targets[0]
    probe = tmp_path / "probe"
    probe.mkdir()
    for file in ("variables.tf", "locals.tf"):
        (probe / file).write_text(generated.files[file])
    (probe / "probe.tf").write_text(PROBE)
    inputs = generated.inputs(target.env_name)
    inputs.pop("source")
    (probe / "terraform.tfvars.json").write_text(json.dumps(inputs))
    for args in (("init", "-input=false", "-no-color"), ("apply", "-auto-approve", "-input=false", "-no-color")):
        proc = subprocess.run([terraform_bin, *args], cwd=probe, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = subprocess.run([terraform_bin, "output", "-json"], cwd=probe, capture_output=True, text=True, check=True)
    outputs = {k: v["value"] for k, v in json.loads(proc.stdout).items()}

    dbs = target.config.databases
    assert (
        outputs["versions"]
        == {name: engine(db.engine).cloud_sql_version(db.version) for name, db in dbs.items()}
        == {"shop": "MYSQL_8_4", "legacy": "MYSQL_8_0", "main": "POSTGRES_16"}
    )
    assert outputs["pitr"] == {"shop": True, "legacy": False, "main": True}
    assert outputs["mysql"] == ["legacy", "shop"]  # whose root account gets a random password
    assert outputs["urls"] == {
        "shop": "mysql://app:PW@10.1.2.3:3306/shop?ssl-mode=REQUIRED",
        "legacy": "mysql://app:PW@10.1.2.3:3306/legacy?ssl-mode=REQUIRED",
        "main": "postgresql://app:PW@10.1.2.3:5432/main?sslmode=require",
    }


def test_an_unknown_engine_is_refused_by_the_variable_validation(tmp_path: Path, terraform_bin: str) -> None:
    targets = targets_of(write_config(tmp_path, CONFIGS["mysql-and-postgres"]))
    generated = generate(targets)
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "variables.tf").write_text(generated.files["variables.tf"])
    inputs = generated.inputs(targets[0].env_name)
    inputs.pop("source")
    inputs["databases"]["shop"]["engine"] = "sqlserver"
    (probe / "terraform.tfvars.json").write_text(json.dumps(inputs))
    for args in (("init", "-input=false", "-no-color"), ("plan", "-input=false", "-no-color")):
        proc = subprocess.run([terraform_bin, *args], cwd=probe, capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert 'engine is "postgres" or "mysql".' in proc.stdout + proc.stderr
