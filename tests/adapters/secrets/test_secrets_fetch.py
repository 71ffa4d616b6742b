"""How the secrets step reads Secret Manager: the list call shares the pool with the value reads."""

from __future__ import annotations

from collections.abc import Callable

from secrets_adapter_support import KEYS, SM, Project, secret_id

from shipit.steps import secrets as step

LIST, ACCESS, VERSIONS = SM + "list", SM + "versions.access", SM + "versions.list"


def _sync(project: Project) -> None:
    ctx = project.ctx()
    step.apply(ctx, step.plan(ctx))


def test_a_warm_plan_is_one_list_and_one_read_per_secret(project: Project) -> None:
    _sync(project)
    project.fake.reset_calls()
    assert not step.plan(project.ctx()).has_changes
    assert len(project.fake.calls_to(LIST)) == 1
    read = sorted(c.path.split("/secrets/")[1].split("/")[0] for c in project.fake.calls_to(ACCESS))
    assert read == sorted(secret_id(k) for k in KEYS)


def test_a_first_sync_reads_only_what_started_before_the_list_answered(
    project_factory: Callable[..., Project],
) -> None:
    project = project_factory(secrets=", concurrency: 3")
    # Reads are slow and the list is instant: the two workers not listing each start one read of a secret
    # that does not exist yet; every read that starts after the list answered is skipped.
    project.fake.faults.latency(0.3, ACCESS)
    plan = step.plan(project.ctx())
    assert len(plan.pending) == len(KEYS)
    assert len(project.fake.calls_to(ACCESS)) <= 2


def test_a_secret_absent_when_read_but_present_in_the_list_is_read_again(
    project_factory: Callable[..., Project],
) -> None:
    project = project_factory(secrets=", concurrency: 2")
    _sync(project)
    project.fake.reset_calls()
    # The first secret read answers 404 (its value and its version list) while the slow list is in flight,
    # as if someone else created it in between; the list then holds it, so it is read again, not re-created.
    project.fake.faults.latency(0.3, LIST)
    project.fake.faults.fail(ACCESS, status=404, nth=project.fake.faults.count(ACCESS) + 1)
    project.fake.faults.fail(VERSIONS, status=404, nth=project.fake.faults.count(VERSIONS) + 1)
    plan = step.plan(project.ctx())
    assert not plan.has_changes
    assert len(project.fake.calls_to(ACCESS)) == len(KEYS) + 1
