"""A worker (kind: worker) as a Cloud Run worker pool and a scheduled job, deployed through the CLI
next to the services, then re-deployed as a no-op; `shipit jobs run --wait` and `shipit status`."""

from __future__ import annotations

import json

import pytest
from pipeline_support import PARENT, Project, ProjectFactory, Result

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.terraform]

WORKLOADS = """\
  worker:
    kind: worker
    build: {context: ./web}
    env: {API_URL: "${services.api.url}"}
    cloud_run: {instances: 2, memory: 256Mi}
jobs:
  cleanup:
    service: api
    command: ["sh", "-c", "echo cleanup"]
    tasks: 2
    max_retries: 0
    timeout: 5m
    schedule: "0 3 * * *"
    time_zone: Europe/Paris
"""
SCHEDULER_SA = "acme-staging-cleanup-cron@acme-staging.iam.gserviceaccount.com"
# What the generated module outputs for a scheduled job (scheduler.tf): its Cloud Scheduler account.
SCHEDULER_OUTPUT = f"""
output "scheduler_service_accounts" {{
  value = {{ cleanup = "{SCHEDULER_SA}" }}
}}
"""


@pytest.fixture(scope="module")
def deployed(project_factory: ProjectFactory) -> tuple[Project, Result]:
    project = project_factory()
    config = project.root / "shipit.yaml"
    config.write_text(config.read_text() + WORKLOADS)
    main_tf = project.root / "infra" / "environments" / "staging" / "main.tf"
    main_tf.write_text(main_tf.read_text() + SCHEDULER_OUTPUT)
    project.git("commit", "-qam", "a worker and a job")
    return project, project("deploy", "--yes")


def test_deploys_a_worker_pool_and_a_job(deployed: tuple[Project, Result]) -> None:
    project, result = deployed
    assert result.returncode == 0, str(result)
    pool = project.fake.run.worker_pools.pools[f"{PARENT}/workerPools/worker"]
    container = pool["template"]["containers"][0]
    assert container["image"].split("@")[0].endswith("/worker") and "@sha256:" in container["image"]
    assert "ports" not in container and "startupProbe" not in container
    assert pool["scaling"] == {"manualInstanceCount": 2}
    assert pool["instanceSplits"] == [{"type": "INSTANCE_SPLIT_ALLOCATION_TYPE_LATEST", "percent": 100}]
    assert pool["latestReadyRevision"] == pool["latestCreatedRevision"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["API_URL"] == project.service("api")["uri"]
    assert f"{PARENT}/services/worker" not in project.fake.run.services

    job = project.fake.run.jobs.jobs[f"{PARENT}/jobs/cleanup"]
    api_image = project.service("api")["template"]["containers"][0]["image"]
    task = job["template"]["template"]
    assert task["containers"][0]["image"] == api_image
    assert task["containers"][0]["command"] == ["sh", "-c", "echo cleanup"]
    assert task["maxRetries"] == 0 and task["timeout"] == "300s"
    assert job["template"]["taskCount"] == 2
    # the schedule's account may run this job, and only this one
    policy = project.fake.run.iam.get(f"{PARENT}/jobs/cleanup")
    assert {"role": "roles/run.invoker", "members": [f"serviceAccount:{SCHEDULER_SA}"]} in policy["bindings"]
    assert not project.fake.run.iam.get(f"{PARENT}/jobs/acme-migrate-main").get("bindings")
    # deployed, not run: running is `shipit jobs run` or the schedule
    assert not project.fake.calls_to("run.projects.locations.jobs.run") or all(
        "/jobs/cleanup" not in c.path for c in project.fake.calls_to("run.projects.locations.jobs.run")
    )


def test_redeploy_is_a_no_op(deployed: tuple[Project, Result]) -> None:
    project, _ = deployed
    before = len(project.fake.mutating_calls())
    project("deploy", "--yes")
    assert project.mutating()[before:] == []


def test_status_shows_the_worker(deployed: tuple[Project, Result]) -> None:
    project, _ = deployed
    out = json.loads(project("status", "--json").stdout)
    workers = {w["name"]: w for w in out["workers"]}
    assert workers["worker"]["instances"] == 2 and workers["worker"]["ready"] is True


def test_jobs_run_waits_and_reports(deployed: tuple[Project, Result]) -> None:
    project, _ = deployed
    listed = project("jobs", "list")
    assert "cleanup" in listed.stdout and "0 3 * * *" in listed.stdout
    ok = project("jobs", "run", "cleanup", "--wait", "--yes")
    assert "succeeded" in ok.output
    project.fake.run.fail_executions("cleanup", "cleanup crashed")
    failed = project("jobs", "run", "cleanup", "--wait", "--yes", expect=1)
    assert "cleanup crashed" in failed.output


def test_a_failing_worker_revision_keeps_the_old_one(deployed: tuple[Project, Result]) -> None:
    project, _ = deployed
    name = f"{PARENT}/workerPools/worker"
    ready = project.fake.run.worker_pools.pools[name]["latestReadyRevision"]
    project.fake.run.fail_revisions("worker", "Application exited with code 3")
    config = project.root / "shipit.yaml"
    config.write_text(config.read_text().replace("instances: 2, memory: 256Mi", "instances: 2, memory: 512Mi"))
    result = project("deploy", "--yes", "--only", "workers", expect=1)
    assert "exited with code 3" in result.output and "instances stay on" in result.output
    pool = project.fake.run.worker_pools.pools[name]
    assert pool["latestReadyRevision"] == ready
    project.fake.run.allow_revisions("worker")
    project("deploy", "--yes", "--only", "workers")
    assert project.fake.run.worker_pools.pools[name]["latestReadyRevision"] != ready
