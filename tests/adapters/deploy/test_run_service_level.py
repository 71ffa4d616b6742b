"""Service-level fields (scaling, IAP, description...) create no revision; gcloud's defaults for new services."""

from __future__ import annotations

from adapters.deploy.conftest import Project, image, svc_name


def test_service_level_change_is_applied_without_a_revision(project: Project) -> None:
    project.write("api: {}\n")
    project.deploy({"api": image("api")})
    revisions = project.revisions("api")
    project.write("api: {cloud_run: {description: Orders API, scaling: {manual_instances: 2}, iap: true}}\n")
    plan, out = project.deploy(staged=True, tag="next")
    change = plan.changes[0]
    assert change.summary.startswith("no new revision"), change.summary
    assert {d.field for d in change.diffs} == {
        "description",
        "iapEnabled",
        "service.scaling.manualInstanceCount",
        "service.scaling.scalingMode",
    }
    assert out["api"]["ok"]
    service = project.service("api")
    assert service["scaling"] == {"scalingMode": "MANUAL", "manualInstanceCount": 2}
    assert service["description"] == "Orders API" and service["iapEnabled"] is True
    assert project.revisions("api") == revisions  # nothing staged: no revision to stage
    # Removing them is declarative too.
    project.write("api: {}\n")
    plan, _ = project.deploy()
    assert plan.changes[0].summary.startswith("no new revision")
    assert "description" not in project.service("api") and not project.service("api").get("iapEnabled")
    assert not project.deploy()[0].has_changes


def test_cpu_boost_is_on_for_a_new_service_and_kept_for_an_existing_one(project: Project) -> None:
    project.write("api: {cloud_run: {startup_cpu_boost: false}}\n")
    project.deploy({"api": image("api")})
    assert not project.container("api")["resources"].get("startupCpuBoost")
    # Unset: an existing service keeps what it has (no revision just for the new default).
    project.write("api: {}\n")
    assert not project.deploy()[0].has_changes
    project.fake.run.services.pop(svc_name("api"))
    project.deploy({"api": image("api")})
    assert project.container("api")["resources"]["startupCpuBoost"] is True


def test_a_sidecar_mounts_the_cloud_sql_socket(project: Project) -> None:
    infra = {"database_connection_names": {"main": "acme-staging:us-central1:main"}}
    project.write(
        "api:\n  databases: [main]\n  sidecars:\n"
        "    pgbouncer: {image: 'bitnami/pgbouncer:1', mounts: {cloudsql: /cloudsql}}\n",
        "databases:\n  main: {}\n",
    )
    _, out = project.deploy({"api": image("api")}, {"infra": infra})
    assert out["api"]["ok"], out
    sidecar = project.service("api")["template"]["containers"][1]
    assert sidecar["volumeMounts"] == [{"name": "cloudsql", "mountPath": "/cloudsql"}]
    assert not project.deploy(results={"infra": infra})[0].has_changes
