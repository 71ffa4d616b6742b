"""A service that lists a cache gets REDIS_URL and REDIS_CA_CERT as secrets pinned to what Terraform wrote."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from shipit.config import load_config, resolve_target
from shipit.output import Console
from shipit.steps import services as services_step
from shipit.steps.context import RunOptions, StepContext
from shipit.steps.infra_outputs import deploy_inputs
from step_results import typed_results
from unit.deploy.test_planner import IMG, OPTS, MemoryRun, on

MODULE_OUTPUTS = {
    "service_accounts": {"api": "api-sa@acme-staging.iam.gserviceaccount.com"},
    "vpc_connector": "projects/acme-staging/locations/us-central1/connectors/acme",
    "caches": {
        "sessions": {
            "host": "10.2.0.4",
            "port": 6378,
            "url_secret": "acme-staging-REDIS_URL_SESSIONS",
            "url_secret_version": "projects/123/secrets/acme-staging-REDIS_URL_SESSIONS/versions/2",
            "ca_secret": "acme-staging-REDIS_CA_SESSIONS",
            "ca_secret_version": "projects/123/secrets/acme-staging-REDIS_CA_SESSIONS/versions/5",
        }
    },
}

CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
caches:
  sessions: {}
services:
  api: {caches: [sessions]}
  web: {}
jobs:
  sweep: {service: web, caches: [sessions], command: [python, -m, sweep]}
"""


def _ctx(tmp_path: Path, results: dict[str, Any]) -> StepContext:
    (tmp_path / "shipit.yaml").write_text(CONFIG)
    target = resolve_target(load_config(tmp_path / "shipit.yaml", "shipit.yaml"), "staging")
    return StepContext(
        target=target,
        console=Console(stdout=io.StringIO(), stderr=io.StringIO()),
        options=RunOptions(images=(("api", IMG), ("web", IMG))),
        results=typed_results(results),
    )


def test_cache_outputs_are_flattened() -> None:
    flat = deploy_inputs(MODULE_OUTPUTS)
    assert flat["cache_url_secrets"] == {"sessions": "acme-staging-REDIS_URL_SESSIONS"}
    assert flat["cache_ca_versions"] == {"sessions": MODULE_OUTPUTS["caches"]["sessions"]["ca_secret_version"]}
    assert flat["cache_hosts"] == {"sessions": "10.2.0.4"}
    assert "caches" not in flat


def test_service_gets_the_cache_secret_versions_terraform_wrote_and_vpc_access(tmp_path: Path) -> None:
    api = MemoryRun()
    ctx = on(_ctx(tmp_path, {"infra": MODULE_OUTPUTS}), api)
    plan = services_step.plan(ctx, OPTS)
    services_step.apply(ctx, plan)
    services = {name.rsplit("/", 1)[-1]: body for name, body in api.services.items()}
    container = services["api"]["template"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["REDIS_URL"]["valueSource"]["secretKeyRef"] == {
        "secret": "acme-staging-REDIS_URL_SESSIONS",
        "version": "2",
    }
    assert env["REDIS_CA_CERT"]["valueSource"]["secretKeyRef"] == {
        "secret": "acme-staging-REDIS_CA_SESSIONS",
        "version": "5",
    }
    # Memorystore has only a private IP: the service reaches it through the VPC, like Cloud SQL.
    assert services["api"]["template"]["vpcAccess"]["connector"].endswith("/connectors/acme")
    web = services["web"]["template"]
    assert "vpcAccess" not in web
    assert not [e for e in web["containers"][0].get("env", []) if e["name"].startswith("REDIS")]


def test_a_job_that_lists_a_cache_gets_its_secrets_and_vpc_access(tmp_path: Path) -> None:
    from shipit.render.job import job_as_service, render_app_job
    from shipit.steps.services import DeployOptions, Resolver

    ctx = _ctx(tmp_path, {"infra": MODULE_OUTPUTS})
    job = ctx.target.config.jobs["sweep"]
    inputs, _ = Resolver(ctx, DeployOptions(), {}, set()).inputs("web", job_as_service(job), None)
    task = render_app_job(job, inputs)["template"]["template"]
    env = {e["name"]: e["valueSource"]["secretKeyRef"] for e in task["containers"][0]["env"] if "valueSource" in e}
    assert env["REDIS_URL"] == {"secret": "acme-staging-REDIS_URL_SESSIONS", "version": "2"}
    assert env["REDIS_CA_CERT"] == {"secret": "acme-staging-REDIS_CA_SESSIONS", "version": "5"}
    assert task["vpcAccess"]["connector"].endswith("/connectors/acme")
