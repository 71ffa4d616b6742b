"""Who may invoke each service: allUsers and the Pub/Sub push account, granted on the service itself."""

from __future__ import annotations

from adapters.deploy.conftest import Project, image, svc_name
from shipit.plan import Action

SET_IAM = "run.projects.locations.services.setIamPolicy"
PUSH = "serviceAccount:acme-staging-push@acme-staging.iam.gserviceaccount.com"
SERVICES = """
api:
  cloud_run: {allow_unauthenticated: true}
worker: {}
"""
PUBSUB = """\
pubsub:
  topics: {jobs: {}}
  subscriptions:
    jobs-worker: {topic: jobs, push: {service: worker, path: /push}}
"""
IMAGES = {"api": image("api"), "worker": image("worker")}


def invokers(project: Project, service: str) -> list[dict[str, object]]:
    bindings = project.fake.run.iam.get(svc_name(service)).get("bindings") or []
    return [b for b in bindings if b["role"] == "roles/run.invoker"]


def test_the_push_account_may_invoke_exactly_the_services_it_pushes_to(project: Project) -> None:
    project.write(SERVICES, PUBSUB)
    plan, out = project.deploy(IMAGES)
    worker = next(c for c in plan.changes if c.resource == "service worker")
    assert (worker.action, worker.summary) == (Action.CREATE, "new service (Pub/Sub push)")
    assert out["worker"]["ok"]
    assert invokers(project, "worker") == [{"role": "roles/run.invoker", "members": [PUSH]}]
    assert invokers(project, "api") == [{"role": "roles/run.invoker", "members": ["allUsers"]}]

    project.fake.reset_calls()
    plan, _ = project.deploy(IMAGES)
    assert not plan.has_changes
    assert project.writes() == []


def test_dropping_the_push_subscription_revokes_only_the_push_account(project: Project) -> None:
    project.write(SERVICES, PUBSUB)
    project.deploy(IMAGES)
    # Someone granted another member by hand: shipit leaves members it does not manage alone.
    policy = project.fake.run.iam.get(svc_name("worker"))
    policy["bindings"][0]["members"].append("user:ops@acme.test")
    project.fake.run.iam.set(svc_name("worker"), {"policy": policy})
    project.fake.reset_calls()

    project.write(SERVICES, "pubsub:\n  topics: {jobs: {}}\n")
    plan, _ = project.deploy(IMAGES)
    [change] = plan.pending
    assert [d.render() for d in change.diffs] == [
        "iam.acme-staging-push@acme-staging.iam.gserviceaccount.com: roles/run.invoker -> (none)"
    ]
    assert project.writes() == [SET_IAM]
    assert invokers(project, "worker") == [{"role": "roles/run.invoker", "members": ["user:ops@acme.test"]}]


def test_a_public_push_target_keeps_both_members_in_one_binding(project: Project) -> None:
    project.write(SERVICES.replace("worker: {}", "worker: {cloud_run: {allow_unauthenticated: true}}"), PUBSUB)
    plan, _ = project.deploy(IMAGES)
    worker = next(c for c in plan.changes if c.resource == "service worker")
    assert worker.summary == "new service (public, Pub/Sub push)"
    assert invokers(project, "worker") == [{"role": "roles/run.invoker", "members": sorted(["allUsers", PUSH])}]
