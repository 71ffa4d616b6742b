"""Migrations as a Cloud Run Job: plan, create/update, run, wait, fail, retry, idempotence."""

from __future__ import annotations

import pytest

from shipit import pipeline
from shipit.names import MIGRATE_HASH_LABEL
from shipit.plan import Action
from shipit.steps import migrate
from shipit.steps import services as services_step

from .conftest import DIGEST_B, JOB, PARENT, Project, image, results

CREATE = "run.projects.locations.jobs.create"
PATCH = "run.projects.locations.jobs.patch"
RUN = "run.projects.locations.jobs.run"


def test_first_run_creates_the_job_and_runs_it_once(project: Project) -> None:
    plan, result = project.deploy(results())

    [change] = plan.changes
    assert change.action is Action.CREATE
    assert change.resource == "migration main (job acme-migrate-main)"
    assert result["main"]["status"] == "succeeded"
    assert project.writes() == [CREATE, RUN]
    assert len(project.executions()) == 1
    job = project.job()
    task = job["template"]["template"]
    [container] = task["containers"]
    assert container["image"] == image("api")
    assert container["command"] == ["alembic", "upgrade", "head"]
    assert "args" not in container  # the service's server args do not follow the migrate command
    assert "ports" not in container and "startupProbe" not in container
    assert task["maxRetries"] == 0
    assert task["timeout"] == "300s"
    assert job["labels"]["managed-by"] == "shipit"
    assert job["labels"][MIGRATE_HASH_LABEL] == result["main"]["hash"]
    assert result["main"]["execution"] == project.executions()[0]["name"].rsplit("/", 1)[-1]


def test_the_job_sees_what_the_service_sees(project: Project) -> None:
    """Same image, env, pinned secrets, secret files, Cloud SQL, VPC and identity as the deployed service."""
    project.deploy(results())
    ctx = project.ctx(results())
    services_step.apply(ctx, services_step.plan(ctx, services_step.DeployOptions(services=("api",), git_sha="0" * 40)))

    service = project.fake.run.services[f"{PARENT}/services/api"]["template"]
    task = project.job()["template"]["template"]
    served, job = service["containers"][0], task["containers"][0]
    assert job["image"] == served["image"]
    assert sorted(job["env"], key=str) == sorted(served["env"], key=str)
    assert {e["name"] for e in job["env"]} == {"LOG_LEVEL", "STRIPE_KEY", "DATABASE_URL"}
    assert job["volumeMounts"] == served["volumeMounts"]
    assert task["volumes"] == service["volumes"]
    assert task["vpcAccess"] == service["vpcAccess"]
    assert task["serviceAccount"] == service["serviceAccount"]
    assert job["resources"]["limits"] == served["resources"]["limits"]
    secrets = {e["name"]: e["valueSource"]["secretKeyRef"] for e in job["env"] if "valueSource" in e}
    assert secrets["STRIPE_KEY"]["version"] == "3"
    assert secrets["DATABASE_URL"] == {"secret": "acme-staging-DATABASE_URL", "version": "2"}


def test_replanning_a_finished_migration_is_a_noop_with_no_writes(project: Project) -> None:
    project.deploy(results())
    project.fake.reset_calls()

    plan, result = project.deploy(results())

    assert not plan.has_changes
    assert plan.changes[0].action is Action.NOOP
    assert result["main"]["status"] == "unchanged"
    assert project.writes() == []
    assert len(project.executions()) == 1


def test_a_new_image_updates_the_job_and_runs_it_again(project: Project) -> None:
    project.deploy(results())
    etag = project.job()["etag"]

    plan, result = project.deploy(results(DIGEST_B))

    [change] = plan.changes
    assert change.action is Action.UPDATE
    assert "image, command or env changed" in change.summary
    assert any(d.field == "container.image" for d in change.diffs)
    assert project.writes()[-2:] == [PATCH, RUN]
    assert project.fake.calls_to(PATCH)[0].body["etag"] == etag  # etag-guarded like services
    assert project.job()["template"]["template"]["containers"][0]["image"] == image("api", DIGEST_B)
    assert len(project.executions()) == 2
    assert result["main"]["status"] == "succeeded"


def test_a_rotated_secret_version_updates_the_job_without_rerunning_the_migration(project: Project) -> None:
    project.deploy(results())
    plan, _ = project.deploy(results(stripe=4))
    assert plan.changes[0].action is Action.UPDATE
    assert project.writes()[-1] == PATCH
    assert len(project.executions()) == 1
    env = project.job()["template"]["template"]["containers"][0]["env"]
    assert {e["name"]: e for e in env}["STRIPE_KEY"]["valueSource"]["secretKeyRef"]["version"] == "4"
    replan, _ = project.deploy(results(stripe=4))
    assert replan.changes[0].is_noop


def test_a_failing_execution_raises_with_its_message_and_log_url_and_keeps_the_job(project: Project) -> None:
    project.fake.run.fail_executions("acme-migrate-main", 'relation "users" already exists')
    ctx, plan = project.plan(results())

    with pytest.raises(migrate.MigrationFailed) as err:
        migrate.apply(ctx, plan)

    text = err.value.render()
    assert err.value.exit_code == 1
    assert 'relation "users" already exists' in text
    assert "https://console.cloud.google.com/logs/viewer" in text
    assert "Cloud Logging" in text
    assert "no traffic was moved" in text
    assert JOB in project.fake.run.jobs.jobs

    # The next plan runs it again (same job spec: no update), and it succeeds once fixed.
    project.fake.run.jobs.failing.clear()
    replan, result = project.deploy(results())
    assert replan.changes[0].action is Action.UPDATE
    assert "last run failed" in replan.changes[0].summary
    assert project.writes()[-1] == RUN and PATCH not in project.writes()
    assert result["main"]["status"] == "succeeded"


def test_a_failing_migration_moves_no_traffic(project: Project) -> None:
    """Through the pipeline: migrate runs before the services step, and its failure stops the release."""
    project.fake.run.fail_executions("acme-migrate-main", "boom")
    ctx = project.ctx(results())
    steps = pipeline.select_steps(only=["migrate,services"])
    planned = pipeline.plan_all(ctx, steps)
    services_plan = planned.get("services").plan
    assert services_plan is not None and services_plan.has_changes

    with pytest.raises(migrate.MigrationFailed, match="boom"):
        pipeline.apply_all(ctx, steps, planned)

    assert [w for w in project.writes() if ".services." in w] == []
    assert project.fake.run.services == {}


@pytest.mark.parametrize("status", [429, 503])
def test_create_and_run_are_retried_on_429_and_503(project: Project, status: int) -> None:
    project.fake.faults.fail(CREATE, status=status)
    project.fake.faults.fail(RUN, status=status)

    _, result = project.deploy(results())

    assert result["main"]["status"] == "succeeded"
    assert [c.status for c in project.fake.calls_to(CREATE)] == [status, 200]
    assert [c.status for c in project.fake.calls_to(RUN)] == [status, 200]
    assert len(project.executions()) == 1


def test_a_dropped_run_response_does_not_run_twice(project: Project) -> None:
    project.fake.faults.drop_response(RUN)

    _, result = project.deploy(results())

    assert len(project.fake.calls_to(RUN)) == 1
    assert len(project.executions()) == 1
    assert result["main"]["status"] == "succeeded"
    assert result["main"]["execution"] == project.executions()[0]["name"].rsplit("/", 1)[-1]


def test_a_dropped_create_response_adopts_the_created_job(project: Project) -> None:
    project.fake.faults.drop_response(CREATE)

    _, result = project.deploy(results())

    assert len(project.fake.calls_to(CREATE)) == 1
    assert len(project.executions()) == 1
    assert result["main"]["status"] == "succeeded"


def test_offline_plans_a_new_job_without_any_call(project: Project) -> None:
    _, plan = project.plan(results(), offline=True)

    assert plan.changes[0].action is Action.CREATE
    assert project.fake.calls == []


def test_without_a_new_image_the_deployed_one_runs(project: Project) -> None:
    ctx = project.ctx(results())
    services_step.apply(ctx, services_step.plan(ctx, services_step.DeployOptions(services=("api",), git_sha="0" * 40)))
    given = {k: v for k, v in results().items() if k != "push"}

    plan, result = project.deploy(given)

    assert any("keeping the deployed one" in n for n in plan.notes)
    assert project.job()["template"]["template"]["containers"][0]["image"] == image("api")
    assert result["main"]["status"] == "succeeded"


def test_no_image_and_no_deployed_service_is_a_clear_error(project: Project) -> None:
    from shipit.errors import UsageError

    given = {k: v for k, v in results().items() if k != "push"}
    with pytest.raises(UsageError, match="no image for service api"):
        project.plan(given)
    assert project.writes() == []
