"""The generated module against the real terraform binary.

`terraform validate` needs the Google provider, which cannot be downloaded here, so the module is
checked with what works offline: `terraform fmt -check` (no provider needed), and the pure `locals`
(who may read which secret, who gets cloudsql.client, which APIs) evaluated by terraform itself with
each environment's real module arguments.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from infra_support import CONFIGS, REPO, example_targets, generate, targets_of, write_config, write_tree

from shipit.infra.generate import desired_files
from shipit.render.terraform import service_secret_keys

pytestmark = pytest.mark.terraform

ALL = ["example", *CONFIGS]


def _targets(name: str, tmp_path: Path) -> list:
    if name == "example":
        return example_targets(tmp_path)
    return targets_of(write_config(tmp_path, CONFIGS[name]))


def _tf(terraform_bin: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([terraform_bin, *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("name", ALL)
def test_terraform_fmt_leaves_generated_files_unchanged(name: str, tmp_path: Path, terraform_bin: str) -> None:
    out = tmp_path / "infra"
    # With the ownership headers, exactly as written to disk.
    write_tree(out, desired_files(_targets(name, tmp_path)))
    proc = _tf(terraform_bin, out, "fmt", "-check", "-recursive", "-diff", "-no-color")
    assert proc.returncode == 0, proc.stdout + proc.stderr


PROBE = """
output "secret_accessors" { value = local.secret_accessors }
output "created_accounts" { value = local.created_accounts }
output "apis" { value = local.apis }
"""
PROBE_DATABASES = """
output "database_url_accessors" { value = local.database_url_accessors }
output "sql_clients" { value = local.sql_clients }
"""

PROBE_CACHES = """
output "cache_accessors" { value = local.cache_accessors }
"""


@pytest.mark.parametrize("name", ALL)
def test_locals_expand_to_exact_bindings(name: str, tmp_path: Path, terraform_bin: str) -> None:
    targets = _targets(name, tmp_path)
    generated = generate(targets)
    has_db = "databases.tf" in generated.files
    has_caches = "caches.tf" in generated.files
    for target in targets:
        probe = tmp_path / f"probe-{target.env_name}"
        probe.mkdir()
        for file in ("variables.tf", "locals.tf"):
            (probe / file).write_text(generated.files[file])
        probes = PROBE + (PROBE_DATABASES if has_db else "") + (PROBE_CACHES if has_caches else "")
        (probe / "probe.tf").write_text(probes)
        inputs = generated.inputs(target.env_name)
        inputs.pop("source")
        (probe / "terraform.tfvars.json").write_text(json.dumps(inputs))
        for args in (("init", "-input=false", "-no-color"), ("apply", "-auto-approve", "-input=false", "-no-color")):
            proc = _tf(terraform_bin, probe, *args)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        proc = _tf(terraform_bin, probe, "output", "-json")
        outputs = {k: v["value"] for k, v in json.loads(proc.stdout).items()}

        services = target.config.services
        expected = {
            f"{svc}/{key}": {"service": svc, "secret": key}
            for svc, s in services.items()
            for key in service_secret_keys(s)
        }
        assert outputs["secret_accessors"] == expected
        assert outputs["created_accounts"] == {
            svc: inputs["services"][svc]["account_id"] for svc, s in services.items() if not s.cloud_run.service_account
        }
        apis = set(outputs["apis"])
        assert {"run.googleapis.com", "secretmanager.googleapis.com", "artifactregistry.googleapis.com"} <= apis
        assert ("sqladmin.googleapis.com" in apis) is bool(target.config.databases)
        private_ips = bool(target.config.databases or target.config.caches)
        assert ("servicenetworking.googleapis.com" in apis) is private_ips
        assert ("redis.googleapis.com" in apis) is bool(target.config.caches)
        assert ("pubsub.googleapis.com" in apis) is bool(target.config.pubsub and target.config.pubsub.topics)
        assert ("vpcaccess.googleapis.com" in apis) is bool(inputs.get("connector"))
        if has_db:
            assert outputs["database_url_accessors"] == {
                f"{svc}/{db}": {"service": svc, "database": db} for svc, s in services.items() for db in s.databases
            }
            assert set(outputs["sql_clients"]) == {svc for svc, s in services.items() if s.databases}
        if has_caches:
            jobs = target.config.jobs.values()
            assert outputs["cache_accessors"] == {
                f"{svc}/{cache}": {"service": svc, "cache": cache}
                for svc, s in services.items()
                for cache in (*s.caches, *(c for j in jobs if j.service == svc for c in j.caches))
            }


def test_terraform_fmt_leaves_the_load_balancer_unchanged(tmp_path: Path, terraform_bin: str) -> None:
    # The fullstack example has a multi-region environment with a domain: load_balancer.tf is written.
    (tmp_path / "shipit.yaml").write_text((REPO / "examples" / "fullstack" / "shipit.yaml").read_text())
    files = desired_files(targets_of(tmp_path / "shipit.yaml"))
    assert "load_balancer.tf" in files
    out = tmp_path / "infra"
    write_tree(out, files)
    proc = _tf(terraform_bin, out, "fmt", "-check", "-recursive", "-diff", "-no-color")
    assert proc.returncode == 0, proc.stdout + proc.stderr


LB_PROBE = """
output "lb_negs" { value = local.lb_negs }
output "lb_on" { value = local.lb_on }
output "lb_generate_policy" { value = local.lb_generate_policy }
"""


@pytest.mark.parametrize(
    ("edit", "generated_policy"),
    [(None, True), (("cloud_armor: true", "armor: {policy: corp-waf}"), False)],
)
def test_load_balancer_locals_expand_to_one_neg_per_service_and_region(
    edit: tuple[str, str] | None, generated_policy: bool, tmp_path: Path, terraform_bin: str
) -> None:
    from shipit.render.terraform_global_lb import LB_LOCALS

    text = (REPO / "examples" / "fullstack" / "shipit.yaml").read_text()
    if edit is not None:
        text = text.replace(*edit)
    (tmp_path / "shipit.yaml").write_text(text)
    generated = generate(targets_of(tmp_path / "shipit.yaml"))
    assert generated.files["load_balancer.tf"].startswith(LB_LOCALS)
    for env, expected in (("global", True), ("staging", False)):
        probe = tmp_path / f"probe-{env}"
        probe.mkdir()
        (probe / "variables.tf").write_text(generated.files["variables.tf"])
        (probe / "lb_locals.tf").write_text(LB_LOCALS)
        (probe / "probe.tf").write_text(LB_PROBE)
        inputs = generated.inputs(env)
        inputs.pop("source")
        (probe / "terraform.tfvars.json").write_text(json.dumps(inputs))
        for args in (("init", "-input=false", "-no-color"), ("apply", "-auto-approve", "-input=false", "-no-color")):
            proc = _tf(terraform_bin, probe, *args)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        proc = _tf(terraform_bin, probe, "output", "-json")
        outputs = {k: v["value"] for k, v in json.loads(proc.stdout).items()}
        assert outputs["lb_on"] is expected
        if not expected:
            assert outputs["lb_negs"] == {} and outputs["lb_generate_policy"] is False
            continue
        assert outputs["lb_negs"] == {
            "shop-global-web-europe-west1": {"service": "web", "region": "europe-west1"},
            "shop-global-web-us-central1": {"service": "web", "region": "us-central1"},
        }
        assert outputs["lb_generate_policy"] is generated_policy


# The outputs read resources, which need the provider: stand-ins with the same attributes take their place.
VPC_STUBS = """
locals {
  connector_stub = var.connector == null ? [] : [
    { id = "projects/${var.project}/locations/${var.region}/connectors/${var.connector.name}" }
  ]
  regional_connector_stub = {
    for region, c in var.regional_connectors : region => {
      id = "projects/${var.project}/locations/${region}/connectors/${c.name}"
    }
  }
}
"""


def test_every_region_of_a_vpc_using_service_gets_its_subnet_and_connector(tmp_path: Path, terraform_bin: str) -> None:
    from shipit.render import terraform_vpc_regions as vpc_regions

    (tmp_path / "shipit.yaml").write_text((REPO / "examples" / "fullstack" / "shipit.yaml").read_text())
    generated = generate(targets_of(tmp_path / "shipit.yaml"))
    assert 'resource "google_compute_subnetwork" "regional"' in generated.files["network.tf"]
    outputs_hcl = (vpc_regions.OUTPUTS + vpc_regions.OUTPUTS_CONNECTORS).replace(
        "google_compute_subnetwork.main.name", "var.network.subnet_name"
    )
    for resource, stub in (
        ("google_compute_subnetwork.regional", "var.regional_subnets"),
        ("google_vpc_access_connector.connector", "local.connector_stub"),
        ("google_vpc_access_connector.regional", "local.regional_connector_stub"),
    ):
        outputs_hcl = outputs_hcl.replace(resource, stub)
    assert "google_" not in outputs_hcl
    connectors = "projects/shop-{env}-123/locations/{region}/connectors/shop-{env}-run{suffix}"
    expected = {
        # The primary keeps the single-region names and ranges: nothing is replaced when a region is added.
        "global": (
            {"europe-west1": "shop-global-europe-west1", "us-central1": "shop-global-us-central1"},
            {
                "europe-west1": connectors.format(env="global", region="europe-west1", suffix=""),
                "us-central1": connectors.format(env="global", region="us-central1", suffix="1"),
            },
        ),
        "staging": (
            {"us-central1": "shop-staging-us-central1"},
            {"us-central1": connectors.format(env="staging", region="us-central1", suffix="")},
        ),
    }
    for env, (subnets, connector_ids) in expected.items():
        probe = tmp_path / f"probe-{env}"
        probe.mkdir()
        (probe / "variables.tf").write_text(generated.files["variables.tf"])
        (probe / "stubs.tf").write_text(VPC_STUBS)
        (probe / "outputs.tf").write_text(outputs_hcl)
        inputs = generated.inputs(env)
        inputs.pop("source")
        (probe / "terraform.tfvars.json").write_text(json.dumps(inputs))
        for args in (("init", "-input=false", "-no-color"), ("apply", "-auto-approve", "-input=false", "-no-color")):
            proc = _tf(terraform_bin, probe, *args)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        proc = _tf(terraform_bin, probe, "output", "-json")
        outputs = {k: v["value"] for k, v in json.loads(proc.stdout).items()}
        assert outputs["vpc_subnets"] == subnets
        assert outputs["vpc_connectors"] == connector_ids
    global_inputs = generated.inputs("global")
    assert global_inputs["network"]["subnet_cidr"] == "10.10.0.0/24"
    assert global_inputs["connector"]["cidr"] == "10.8.0.0/28"
    assert global_inputs["regional_subnets"] == {
        "us-central1": {"name": "shop-global-us-central1", "cidr": "10.10.1.0/24"}
    }
    assert global_inputs["regional_connectors"] == {"us-central1": {"name": "shop-global-run1", "cidr": "10.8.0.16/28"}}
