"""A service that reaches the VPC in several regions takes its subnet or connector from its region's entry of
the Terraform outputs (``vpc_subnets``, ``vpc_connectors``); the single-region outputs serve the primary only."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

from shipit.config import load_config, resolve_target
from shipit.config.target import Target
from shipit.output import Console
from shipit.render.cloudrun import VpcAccess
from shipit.results import InfraResult
from shipit.steps.context import RunOptions, StepContext
from shipit.steps.services import resolve_inputs
from step_results import typed_results

IMG = "us-central1-docker.pkg.dev/acme-prod/acme/api@sha256:" + "a" * 64
CONFIG = """\
version: 1
app: acme
environments:
  prod: {project: acme-prod, regions: [us-central1, us-east1]}
databases:
  main: {}
services:
  api: {databases: [main]}
  jobs: {cloud_run: {vpc: {mode: direct}}}
"""
CONNECTOR = "projects/acme-prod/locations/{}/connectors/acme-prod-run{}"


def _in(target: Target, region: str) -> Target:
    """The environment as the services step sees it in ``region`` (one region, cut from ``target``)."""
    env = target.environment.model_copy(update={"region": region, "regions": None})
    return dataclasses.replace(target, environment=env, origin=target)


def vpc(tmp_path: Path, outputs: dict[str, Any], region: str, service: str) -> tuple[VpcAccess | None, str]:
    (tmp_path / "shipit.yaml").write_text(CONFIG)
    target = resolve_target(load_config(tmp_path / "shipit.yaml", "shipit.yaml"), "prod")
    ctx = StepContext(
        target=_in(target, region),
        console=Console(stdout=io.StringIO(), stderr=io.StringIO()),
        options=RunOptions(images=((service, IMG),)),
        results=typed_results({"infra": InfraResult(outputs)}),
    )
    notes: set[str] = set()
    inputs, _ = resolve_inputs(ctx, service, None, {}, notes)
    return inputs.vpc, "\n".join(sorted(notes))


MULTI = {
    "vpc_connector": CONNECTOR.format("us-central1", ""),
    "vpc_connectors": {"us-central1": CONNECTOR.format("us-central1", ""), "us-east1": CONNECTOR.format("us-east1", 1)},
    "network": {"network": "acme-prod-vpc", "subnet": "acme-prod-us-central1"},
    "vpc_subnets": {"us-central1": "acme-prod-us-central1", "us-east1": "acme-prod-us-east1"},
}


def test_each_region_gets_its_own_connector_and_subnet(tmp_path: Path) -> None:
    for region in ("us-central1", "us-east1"):
        access, _ = vpc(tmp_path, MULTI, region, "api")
        assert access == VpcAccess(egress="private-ranges-only", connector=MULTI["vpc_connectors"][region])
        access, _ = vpc(tmp_path, MULTI, region, "jobs")
        assert access == VpcAccess(
            egress="private-ranges-only", network="acme-prod-vpc", subnetwork=f"acme-prod-{region}"
        )


def test_single_region_outputs_serve_the_primary_only(tmp_path: Path) -> None:
    single = {k: v for k, v in MULTI.items() if k not in ("vpc_connectors", "vpc_subnets")}
    access, _ = vpc(tmp_path, single, "us-central1", "api")
    assert access is not None and access.connector == single["vpc_connector"]
    # The primary's connector is regional: another region deploys without VPC access, and says so.
    access, notes = vpc(tmp_path, single, "us-east1", "api")
    assert access is None
    assert "api: no VPC connector known in us-east1 (infra outputs vpc_connectors, vpc_connector)" in notes
    access, _ = vpc(tmp_path, single, "us-east1", "jobs")
    assert access == VpcAccess(egress="private-ranges-only", network="acme-prod-vpc", subnetwork=None)
