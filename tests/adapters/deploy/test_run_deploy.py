"""The deploy step's behaviour through the real run_v2 REST clients against fakegcp (responses front door)."""

from __future__ import annotations

import pytest

from adapters.deploy.conftest import DIGEST_B, PARENT, Project, image, svc_name
from shipit.errors import ConflictError, ShipitError
from shipit.plan import Action
from shipit.steps.services import traffic as run_traffic
from shipit.steps.services.rollout import DeployFailed

PATCH = "run.projects.locations.services.patch"
CREATE = "run.projects.locations.services.create"
SET_IAM = "run.projects.locations.services.setIamPolicy"
TWO = """
api:
  env: {LOG_LEVEL: info, FEATURE: "on"}
  secrets: [STRIPE_KEY]
web:
  env: {API_URL: "${services.api.url}"}
  cloud_run: {allow_unauthenticated: true}
"""
SECRETS_V3 = {"STRIPE_KEY": "projects/acme-staging/secrets/acme-staging-STRIPE_KEY/versions/3"}
IMAGES = {"api": image("api"), "web": image("web")}


def env_of(project: Project, name: str) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueSource")) for e in project.container(name).get("env", [])}


def first_deploy(project: Project) -> None:
    project.write(TWO)
    project.deploy(IMAGES, {"secrets": SECRETS_V3})
    project.fake.reset_calls()


def test_create_then_noop_redeploy_makes_zero_writes(project: Project) -> None:
    project.write(TWO)
    plan, out = project.deploy(IMAGES, {"secrets": SECRETS_V3})
    assert [c.action for c in plan.changes] == [Action.CREATE, Action.CREATE]
    assert out["api"]["ok"] and out["web"]["ok"]
    assert project.container("api")["image"] == image("api")
    project.fake.reset_calls()

    plan, out = project.deploy(IMAGES, {"secrets": SECRETS_V3})
    assert not plan.has_changes
    assert project.writes() == []
    assert len(project.revisions("api")) == 1


def test_dependency_waves_resolve_url(project: Project) -> None:
    first_deploy(project)
    creates = [c for c in project.fake.calls if c.method_id == CREATE]
    assert creates == []  # calls were reset after the first deploy
    api_uri = project.service("api")["uri"]
    assert env_of(project, "web")["API_URL"] == api_uri


def test_dependency_order_on_first_deploy(project: Project) -> None:
    project.write(TWO)
    project.deploy(IMAGES, {"secrets": SECRETS_V3})
    order = [c.path.rsplit("=", 1)[-1] for c in project.fake.calls_to(CREATE)]
    created = [c.query["serviceId"] for c in project.fake.calls_to(CREATE)]
    assert created == ["api", "web"], order


def test_update_env_var_removed_from_service(project: Project) -> None:
    first_deploy(project)
    project.write(TWO.replace(', FEATURE: "on"', ""))
    plan, _ = project.deploy()
    change = next(c for c in plan.changes if c.resource == "service api")
    assert change.action is Action.UPDATE
    assert any(d.field == "env.FEATURE" and d.after is None for d in change.diffs)
    assert "FEATURE" not in env_of(project, "api")
    assert len(project.revisions("api")) == 2
    assert project.writes() == [PATCH]


def test_pinned_secret_version_change_makes_new_revision(project: Project) -> None:
    first_deploy(project)
    ref = env_of(project, "api")["STRIPE_KEY"]
    assert ref == {"secretKeyRef": {"secret": "acme-staging-STRIPE_KEY", "version": "3"}}
    v4 = {"STRIPE_KEY": SECRETS_V3["STRIPE_KEY"].replace("/3", "/4")}
    plan, _ = project.deploy(results={"secrets": v4})
    diff = next(c for c in plan.changes if c.resource == "service api").diffs
    assert [d.render() for d in diff if d.field == "env.STRIPE_KEY"] == [
        "env.STRIPE_KEY: secret acme-staging-STRIPE_KEY version 3 -> secret acme-staging-STRIPE_KEY version 4"
    ]
    assert env_of(project, "api")["STRIPE_KEY"]["secretKeyRef"]["version"] == "4"  # type: ignore[index]
    assert len(project.revisions("api")) == 2


def test_without_secrets_results_the_live_pin_is_kept(project: Project) -> None:
    first_deploy(project)
    plan, _ = project.deploy()
    assert not plan.has_changes


def test_invoker_binding_added_then_removed(project: Project) -> None:
    first_deploy(project)
    policy = project.fake.run.iam.get(svc_name("web"))
    assert {"role": "roles/run.invoker", "members": ["allUsers"]} in policy["bindings"]
    assert project.fake.run.iam.get(svc_name("api")).get("bindings") in (None, [])

    project.write(TWO.replace("cloud_run: {allow_unauthenticated: true}", "cloud_run: {allow_unauthenticated: false}"))
    plan, _ = project.deploy()
    web = next(c for c in plan.changes if c.resource == "service web")
    assert [d.render() for d in web.diffs] == ["iam.allUsers: roles/run.invoker -> (none)"]
    assert project.writes() == [SET_IAM]  # no service write, no revision
    assert not project.fake.run.iam.get(svc_name("web")).get("bindings")


def test_stale_etag_is_rejected_not_overwritten(project: Project) -> None:
    first_deploy(project)
    project.write(TWO.replace("LOG_LEVEL: info", "LOG_LEVEL: debug"))
    ctx, plan = project.plan()
    # Someone else changes the service between plan and apply.
    project.fake.run.services[svc_name("api")]["etag"] = "someone-else"
    from shipit.steps import services as services_step

    with pytest.raises(DeployFailed) as info:
        services_step.apply(ctx, plan)
    assert "changed by someone else" in info.value.message
    assert env_of(project, "api")["LOG_LEVEL"] == "info"
    assert isinstance(ConflictError("x"), ShipitError)


def test_failing_revision_keeps_traffic_and_explains(project: Project) -> None:
    first_deploy(project)
    old = project.revisions("api")[-1]
    project.fake.run.fail_revisions("api")
    with pytest.raises(DeployFailed) as info:
        project.deploy({"api": image("api", DIGEST_B)})
    message = info.value.message
    assert "did not start listening on port 8080" in message
    assert "0.0.0.0:$PORT" in message
    assert f"traffic stays on {old}" in message
    service = project.service("api")
    assert service["latestReadyRevision"].endswith(old)
    # A re-run after the fix retries (the failed revision is a reason for a new one).
    project.fake.run.allow_revisions("api")
    project.deploy({"api": image("api", DIGEST_B)})
    assert project.service("api")["latestReadyRevision"] == project.service("api")["latestCreatedRevision"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Permission denied on secret: projects/1/secrets/acme-staging-STRIPE_KEY/versions/3 for Revision service "
            "account x. The service account used must be granted the 'Secret Manager Secret Accessor' role",
            "may not read acme-staging-STRIPE_KEY",
        ),
        ("Image 'us-central1-docker.pkg.dev/acme-staging/acme/api@sha256:bbbb' not found.", "was not found"),
        ("Startup probe failed: HTTP probe failed with statuscode: 500", "startup probe failed"),
    ],
)
def test_failure_causes_translated(project: Project, message: str, expected: str) -> None:
    first_deploy(project)
    project.fake.run.fail_revisions("api", message)
    with pytest.raises(DeployFailed) as info:
        project.deploy({"api": image("api", DIGEST_B)})
    assert expected in info.value.message


def test_canary_then_promote(project: Project) -> None:
    first_deploy(project)
    old = project.revisions("api")[-1]
    project.deploy({"api": image("api", DIGEST_B)}, canary=10, services=("api",))
    assert project.checked and project.checked[0].startswith("https://candidate---api-")
    traffic = project.service("api")["traffic"]
    assert {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": old, "percent": 90} in traffic
    assert {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 10, "tag": "candidate"} in traffic

    ctx = project.ctx()
    promote = run_traffic.plan_promote(ctx, ["api"])
    assert promote.has_changes
    run_traffic.apply_traffic(ctx, promote)
    new = project.revisions("api")[-1]
    # As gcloud: the tag stays on the promoted revision at 0%, so the candidate URL stays valid.
    assert project.service("api")["traffic"] == [
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100},
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": new, "tag": "candidate"},
    ]
    assert len(project.revisions("api")) == 2
    assert not run_traffic.plan_promote(project.ctx(), ["api"]).has_changes


def test_staged_failed_health_check_returns_traffic(project: Project) -> None:
    first_deploy(project)
    old = project.revisions("api")[-1]

    def unhealthy(url: str, path: str, timeout: float):  # type: ignore[no-untyped-def]
        from shipit.steps.services.api import HealthResult

        return HealthResult(False, "HTTP 503")

    with pytest.raises(DeployFailed) as info:
        project.deploy({"api": image("api", DIGEST_B)}, staged=True, services=("api",), health_checker=unhealthy)
    assert "health check of the new revision failed (HTTP 503)" in info.value.message
    assert project.service("api")["traffic"] == [
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": old, "percent": 100}
    ]


def test_rollback_last_release_together(project: Project) -> None:
    first_deploy(project)
    first = {n: project.revisions(n)[-1] for n in ("api", "web")}
    project.deploy({"api": image("api", DIGEST_B), "web": image("web", DIGEST_B)}, release_id="r2")
    ctx = project.ctx()
    plan = run_traffic.plan_rollback(ctx)
    assert sorted(c.resource for c in plan.pending) == ["service api", "service web"]
    run_traffic.apply_traffic(ctx, plan)
    for name in ("api", "web"):
        assert project.service(name)["trafficStatuses"][0]["revision"] == first[name]
    # Nothing older than the first revision: a clear message.
    with pytest.raises(ShipitError, match="nothing to roll back to"):
        run_traffic.plan_rollback(project.ctx(), ["api"])


def test_rollback_to_named_revision(project: Project) -> None:
    first_deploy(project)
    first = project.revisions("api")[-1]
    project.deploy({"api": image("api", DIGEST_B)})
    ctx = project.ctx()
    plan = run_traffic.plan_rollback(ctx, [], first)
    run_traffic.apply_traffic(ctx, plan)
    assert project.service("api")["traffic"][0]["revision"] == first


@pytest.mark.parametrize("status", [429, 503])
def test_transient_errors_are_retried(project: Project, status: int) -> None:
    project.write(TWO)
    project.fake.faults.fail(CREATE, status=status, times=2)
    project.fake.faults.fail("run.projects.locations.services.get", status=status, times=1)
    _, out = project.deploy(IMAGES, {"secrets": SECRETS_V3})
    assert out["api"]["ok"] and out["web"]["ok"]
    project.fake.faults.fail(PATCH, status=status, times=1)
    project.write(TWO.replace("LOG_LEVEL: info", "LOG_LEVEL: debug"))
    project.deploy()
    assert env_of(project, "api")["LOG_LEVEL"] == "debug"


def test_status_reports_drift_and_release(project: Project) -> None:
    first_deploy(project)
    rows = {r.name: r for r in run_traffic.status(project.ctx())}
    assert rows["api"].drift == ()
    assert rows["api"].image == image("api")
    assert rows["api"].git_sha == "0" * 40
    project.fake.run.services[svc_name("api")]["template"]["containers"][0]["env"][0]["value"] = "oops"
    rows = {r.name: r for r in run_traffic.status(project.ctx())}
    assert rows["api"].drift and "FEATURE" in rows["api"].drift[0]
    assert PARENT in svc_name("api")
