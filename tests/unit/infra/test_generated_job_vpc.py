"""A job's VPC access counts for the generated network: Direct VPC egress needs the subnet, and a job that
reaches its database through the connector needs the connector even when every service uses Direct VPC."""

from __future__ import annotations

from pathlib import Path

from infra_support import generate, targets_of, write_config

from shipit.render.terraform import Features


def _features(tmp_path: Path, body: str) -> tuple[Features, dict[str, object]]:
    targets = targets_of(write_config(tmp_path, body))
    generated = generate(targets)
    return Features.of(targets), generated.inputs(targets[0].env_name)


def test_a_direct_vpc_job_gets_the_network(tmp_path: Path) -> None:
    features, inputs = _features(
        tmp_path, "services:\n  api: {}\njobs:\n  report: {service: api, vpc: {mode: direct, egress: all-traffic}}\n"
    )
    assert features.network and not features.connector
    assert "network" in inputs and "connector" not in inputs


def test_a_job_on_the_connector_gets_it_when_no_service_uses_one(tmp_path: Path) -> None:
    body = """\
databases: {main: {}}
services:
  worker: {kind: worker, databases: [main]}
jobs:
  report: {service: worker, databases: [main]JOB_VPC}
"""
    (tmp_path / "connector").mkdir()
    features, inputs = _features(tmp_path / "connector", body.replace("JOB_VPC", ""))
    assert features.connector and inputs["connector"] is not None
    (tmp_path / "direct").mkdir()
    features, inputs = _features(tmp_path / "direct", body.replace("JOB_VPC", ", vpc: {mode: direct}"))
    assert features.network and not features.connector
