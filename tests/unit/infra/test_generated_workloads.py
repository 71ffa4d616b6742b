"""The generated Terraform for workers and scheduled jobs (shipit.yaml.example has both), parsed with a real
HCL parser: a worker may consume only its pull subscription; a schedule runs as an account of its own."""

from __future__ import annotations

from pathlib import Path

from infra_support import example_targets, generate


def test_a_pull_subscription_grants_its_worker_subscriber_on_it_only(tmp_path: Path) -> None:
    generated = generate(example_targets(tmp_path))
    subscriber = generated.resource("google_pubsub_subscription_iam_member", "subscriber")
    assert subscriber["for_each"] == "${local.pull_subscriptions}"
    assert subscriber["role"] == "roles/pubsub.subscriber"
    assert subscriber["subscription"] == "${google_pubsub_subscription.subscription[each.key].name}"
    assert subscriber["member"] == "serviceAccount:${local.service_account_emails[each.value.pull_service]}"
    for target in generated.targets:
        subs = generated.inputs(target.env_name)["pubsub"]["subscriptions"]
        assert subs["jobs-worker"] == {"topic": "jobs", "ack_deadline": 60, "pull_service": "worker"}
    # no push config for a pull subscription, and the project grants nobody pubsub roles
    roles = [body.get("role") for t, _, body in generated.resources() if t == "google_project_iam_member"]
    assert not any(str(r).startswith("roles/pubsub.") for r in roles)


def test_a_worker_with_a_database_gets_direct_vpc_not_the_connector(tmp_path: Path) -> None:
    generated = generate(example_targets(tmp_path))
    for target in generated.targets:
        inputs = generated.inputs(target.env_name)
        assert inputs["network"]["subnet_cidr"] == target.config.infra.subnet_cidr
        assert inputs["services"]["worker"]["databases"] == ["main"]


def test_a_schedule_is_a_scheduler_job_with_its_own_account(tmp_path: Path) -> None:
    generated = generate(example_targets(tmp_path))
    account = generated.resource("google_service_account", "scheduler")
    assert account["for_each"] == "${var.scheduled_jobs}"
    job = generated.resource("google_cloud_scheduler_job", "job")
    (target,) = job["http_target"]
    assert target["http_method"] == "POST"
    assert target["uri"] == (
        "https://run.googleapis.com/v2/projects/${var.project}/locations/${var.region}/jobs/${each.key}:run"
    )
    (oauth,) = target["oauth_token"]
    assert oauth["service_account_email"] == "${google_service_account.scheduler[each.key].email}"
    # run.invoker on the job is granted by the jobs step (the job does not exist before it), never project-wide
    roles = [body.get("role") for t, _, body in generated.resources() if t == "google_project_iam_member"]
    assert "roles/run.invoker" not in roles
    for t in generated.targets:
        scheduled = generated.inputs(t.env_name)["scheduled_jobs"]
        assert scheduled == {
            "cleanup": {
                "schedule": "0 3 * * *",
                "time_zone": "Europe/Paris",
                "account_id": f"acme-{t.env_name}-cleanup-cron"[:30],
            }
        }
        outputs = generated.tf(f"environments/{t.env_name}/outputs.tf")
        assert any("scheduler_service_accounts" in o for o in outputs["output"])
    apis = generated.tf("locals.tf")
    assert "cloudscheduler.googleapis.com" in str(apis)
