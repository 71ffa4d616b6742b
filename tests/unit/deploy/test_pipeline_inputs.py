"""What the services step receives from the pipeline: Terraform outputs as the module writes them, rollout options."""

from __future__ import annotations

from pathlib import Path

from shipit.steps import services as services_step
from shipit.steps.infra_outputs import deploy_inputs
from unit.deploy.test_planner import IMG, OPTS, MemoryRun, make_ctx, on

MODULE_OUTPUTS = {
    "service_accounts": {"api": "api-sa@acme-staging.iam.gserviceaccount.com"},
    "vpc_connector": "projects/acme-staging/locations/us-central1/connectors/acme",
    "network": {"network": "acme-vpc", "subnet": "acme-subnet"},
    "databases": {
        "main": {
            "private_ip": "10.1.0.3",
            "connection_name": "acme-staging:us-central1:acme-staging-main",
            "url_secret": "acme-staging-DATABASE_URL_MAIN",
            "url_secret_version": "projects/123/secrets/acme-staging-DATABASE_URL_MAIN/versions/4",
        }
    },
}


def test_nested_module_outputs_are_flattened_and_flat_keys_win() -> None:
    flat = deploy_inputs(MODULE_OUTPUTS)
    assert flat["database_private_ips"] == {"main": "10.1.0.3"}
    assert flat["database_connection_names"] == {"main": "acme-staging:us-central1:acme-staging-main"}
    assert flat["database_url_secrets"] == {"main": "acme-staging-DATABASE_URL_MAIN"}
    assert flat["vpc_network"] == "acme-vpc" and flat["vpc_subnetwork"] == "acme-subnet"
    assert deploy_inputs({**MODULE_OUTPUTS, "vpc_network": "mine"})["vpc_network"] == "mine"
    assert deploy_inputs({}) == {}


def test_service_gets_the_database_secret_version_terraform_wrote(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, "api: {databases: [main]}\n", {"api": IMG}, {"infra": MODULE_OUTPUTS})
    api = MemoryRun()
    ctx = on(ctx, api)
    plan = services_step.plan(ctx, OPTS)
    services_step.apply(ctx, plan)
    service = next(iter(api.services.values()))
    container = service["template"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["DATABASE_URL"]["valueSource"]["secretKeyRef"] == {
        "secret": "acme-staging-DATABASE_URL_MAIN",
        "version": "4",
    }
    assert service["template"]["serviceAccount"] == "api-sa@acme-staging.iam.gserviceaccount.com"
    assert service["template"]["vpcAccess"]["connector"].endswith("/connectors/acme")


def test_before_infra_applies_the_plan_says_outputs_are_pending_not_missing(tmp_path: Path) -> None:
    from shipit.results import InfraResult

    ctx = make_ctx(tmp_path, "api: {databases: [main]}\n", {"api": IMG}, {"infra": InfraResult(pending=True)})
    notes = "\n".join(services_step.plan(on(ctx, MemoryRun()), OPTS).notes)
    assert "api: service account and VPC access come from Terraform outputs, known after infra applies" in notes
    assert "default compute service account" not in notes


def test_deploy_rollout_options_reach_the_services_step(tmp_path: Path) -> None:
    import dataclasses

    ctx = make_ctx(tmp_path, "api: {}\n", {"api": IMG})
    ctx.options = dataclasses.replace(ctx.options, staged=True, canary=10)
    notes = "\n".join(services_step.plan(on(ctx, MemoryRun())).notes)
    assert "staged rollout: new revisions get no traffic under tag 'candidate'" in notes
    assert "then 10% (finish with `shipit promote`)" in notes
