"""shipit's secrets step against the real Secret Manager client and the stateful fake."""

from __future__ import annotations

import pytest
from secrets_adapter_support import KEYS, PROJECT, SM, VALUES, Project, secret_id

from shipit.errors import ConfigError, ShipitError
from shipit.plan import Action
from shipit.steps import secrets as step

WRITES = (SM + "create", SM + "addVersion", SM + "delete")


def sync(project: Project, *, prune: bool = False) -> dict[str, str]:
    ctx = project.ctx()
    return step.apply(ctx, step.plan(ctx, prune=prune))


def ids(project: Project) -> set[str]:
    return {name.rsplit("/", 1)[1] for name in project.fake.state()["secrets"]}


def mutating(project: Project) -> list[str]:
    return [c.method_id or "" for c in project.fake.mutating_calls()]


def test_first_sync_creates_every_declared_key_with_labels_and_pins_versions(project: Project) -> None:
    result = sync(project)
    assert result == {k: f"projects/{PROJECT}/secrets/{secret_id(k)}/versions/1" for k in KEYS}
    for key in KEYS:
        assert project.value(key) == VALUES[key].encode()
        secret = project.fake.secrets.secrets[f"projects/{_number()}/secrets/{secret_id(key)}"]
        assert secret["labels"] == {"managed-by": "shipit", "app": "acme", "env": "staging"}
        assert secret["replication"] == {"automatic": {}}
    # Every version was sent with its checksum.
    assert all(c.body["payload"].get("dataCrc32c") for c in project.fake.calls_to(SM + "addVersion"))


def _number() -> str:
    from fakegcp.model import project_number

    return project_number(PROJECT)


def test_second_sync_is_a_no_op_with_zero_mutating_calls(project: Project) -> None:
    first = sync(project)
    project.fake.reset_calls()
    ctx = project.ctx()
    plan = step.plan(ctx)
    assert not plan.has_changes
    assert step.apply(ctx, plan) == first
    assert mutating(project) == []


def test_one_changed_value_adds_exactly_one_version(project: Project) -> None:
    sync(project)
    project.write_env({**VALUES, "STRIPE_KEY": "sk_test_rotated_2"})
    project.fake.reset_calls()
    ctx = project.ctx()
    plan = step.plan(ctx)
    [change] = plan.pending
    assert (change.action, change.resource) == (Action.UPDATE, "STRIPE_KEY")
    rendered = "\n".join(plan.render_lines())
    assert "version: 1 -> 2" in rendered and "sk_test_rotated_2" not in rendered
    result = step.apply(ctx, plan)
    assert mutating(project) == [SM + "addVersion"]
    assert result["STRIPE_KEY"].endswith(f"/secrets/{secret_id('STRIPE_KEY')}/versions/2")
    assert result["DB_PASSWORD"].endswith("/versions/1")
    assert project.versions("STRIPE_KEY") == {"1": "ENABLED", "2": "ENABLED"}


def test_plan_alone_writes_nothing(project: Project) -> None:
    plan = step.plan(project.ctx(), prune=True)
    assert len(plan.pending) == len(KEYS)
    assert mutating(project) == []
    assert step.predict(project.ctx(), plan)["NPM_TOKEN"].endswith("/versions/1")


def test_key_missing_from_env_but_in_secret_manager_stays_unchanged(project: Project) -> None:
    sync(project)
    project.write_env({k: v for k, v in VALUES.items() if k != "NPM_TOKEN"})
    project.fake.reset_calls()
    ctx = project.ctx()
    plan = step.plan(ctx)
    change = next(c for c in plan if c.resource == "NPM_TOKEN")
    assert change.action is Action.NOOP and "not in .env" in change.summary
    assert step.apply(ctx, plan)["NPM_TOKEN"].endswith("/versions/1")
    assert mutating(project) == []


def test_key_missing_from_both_is_an_error_before_any_write(project: Project) -> None:
    project.write_env({k: v for k, v in VALUES.items() if k != "NPM_TOKEN"})
    with pytest.raises(ConfigError) as caught:
        step.plan(project.ctx())
    assert caught.value.exit_code == 2
    message = caught.value.render()
    assert ".env.staging" in message and "NPM_TOKEN" in message and "services.web.build.secrets" in message
    assert mutating(project) == []


def test_missing_env_file_names_the_file(project: Project) -> None:
    (project.root / ".env.staging").unlink()
    with pytest.raises(ConfigError, match=r"\.env\.staging.*does not exist"):
        step.plan(project.ctx())


def test_payload_over_64_kib_is_an_error_before_any_call(project: Project) -> None:
    project.write_env({**VALUES, "SA_JSON": "x" * 65537})
    with pytest.raises(ConfigError) as caught:
        step.plan(project.ctx())
    message = caught.value.render()
    assert ".env.staging:4: SA_JSON" in message and "65537 bytes" in message
    assert project.fake.calls == []


def test_empty_value_is_a_located_error(project: Project) -> None:
    project.write_env({**VALUES, "EXTRA_KEY": ""})
    with pytest.raises(ConfigError, match=r"\.env\.staging:2: EXTRA_KEY: the value is empty"):
        step.plan(project.ctx())


def test_undeclared_key_in_env_file_is_a_warning(project: Project) -> None:
    project.write_env({**VALUES, "NOT_DECLARED": "zzzz-value"})
    sync(project)
    assert ".env.staging:7: NOT_DECLARED is not declared" in project.stderr.getvalue()
    assert "NOT_DECLARED" not in str(project.fake.state())


def test_prune_deletes_only_managed_secrets_of_this_app_and_env(project: Project) -> None:
    secrets = project.fake.secrets
    ours = {"managed-by": "shipit", "app": "acme", "env": "staging"}
    secrets.seed(PROJECT, "acme-staging-OLD_KEY", "old", labels=ours)
    secrets.seed(PROJECT, "acme-staging-HAND_MADE", "keep", labels={"app": "acme", "env": "staging"})
    secrets.seed(PROJECT, "acme-prod-OLD_KEY", "keep", labels={**ours, "env": "prod"})
    secrets.seed(PROJECT, "other-staging-X", "keep", labels={**ours, "app": "other"})
    sync(project)  # without --prune: nothing deleted, a note says what --prune would do
    assert "acme-staging-OLD_KEY" in ids(project)
    assert "--prune" in " ".join(step.plan(project.ctx()).notes)

    project.fake.reset_calls()
    ctx = project.ctx()
    plan = step.plan(ctx, prune=True)
    assert [(c.action, c.resource) for c in plan.pending] == [(Action.DELETE, "acme-staging-OLD_KEY")]
    step.apply(ctx, plan)
    assert mutating(project) == [SM + "delete"]
    left = ids(project)
    assert "acme-staging-OLD_KEY" not in left
    assert {"acme-staging-HAND_MADE", "acme-prod-OLD_KEY", "other-staging-X"} <= left


def test_unmanaged_secret_with_our_name_is_never_written(project: Project) -> None:
    project.fake.secrets.seed(PROJECT, secret_id("STRIPE_KEY"), "someone-elses")
    with pytest.raises(ShipitError, match="not managed by shipit") as caught:
        step.plan(project.ctx())
    assert "update-labels=managed-by=shipit" in (caught.value.hint or "")
    assert mutating(project) == []


def test_unmanaged_secret_with_the_same_value_is_used_as_is(project: Project) -> None:
    project.fake.secrets.seed(PROJECT, secret_id("STRIPE_KEY"), VALUES["STRIPE_KEY"])
    project.fake.reset_calls()
    result = sync(project)
    assert result["STRIPE_KEY"].endswith("/versions/1")
    assert SM + "addVersion" in mutating(project)
    assert len(project.fake.calls_to(SM + "addVersion")) == len(KEYS) - 1


def test_disabled_latest_version_compares_against_latest_enabled(project: Project) -> None:
    sync(project)
    project.write_env({**VALUES, "STRIPE_KEY": "second-value"})
    sync(project)
    name = f"projects/{PROJECT}/secrets/{secret_id('STRIPE_KEY')}/versions/2"
    project.fake.secrets.versions[f"projects/{_number()}/secrets/{secret_id('STRIPE_KEY')}"][1]["state"] = "DISABLED"
    # The file still says "second-value": the newest enabled version (1) differs, so version 3 is planned.
    plan = step.plan(project.ctx())
    [change] = plan.pending
    assert change.payload.version == 3 and change.payload.current == 1
    project.write_env(VALUES)  # back to version 1's value: nothing to do, pinned to version 1
    ctx = project.ctx()
    plan = step.plan(ctx)
    assert not plan.has_changes
    assert step.apply(ctx, plan)["STRIPE_KEY"].endswith("/versions/1")
    assert name  # (documented above)


def test_user_managed_replication_from_config(project_factory) -> None:  # type: ignore[no-untyped-def]
    project = project_factory(secrets=", replication: {locations: [us-east1, europe-west1]}")
    sync(project)
    secret = project.fake.secrets.secrets[f"projects/{_number()}/secrets/{secret_id('STRIPE_KEY')}"]
    assert secret["replication"] == {
        "userManaged": {"replicas": [{"location": "us-east1"}, {"location": "europe-west1"}]}
    }


def test_naming_pattern_is_configurable_and_validated(project_factory) -> None:  # type: ignore[no-untyped-def]
    project = project_factory(secrets=", naming: '{env}_{key}'")
    assert set(sync(project)) == set(KEYS)
    assert "staging_STRIPE_KEY" in ids(project)
    bad = project_factory(secrets=", naming: '{app}-{env}'")
    with pytest.raises(ShipitError, match=r"has no \{key\}: every key would share one secret"):
        step.plan(bad.ctx())


# ---------------------------------------------------------------------------- faults


def _write_positions() -> list[tuple[str, int, int]]:
    cold = [(SM + "create", n) for n in range(1, len(KEYS) + 1)] + [(SM + "addVersion", n) for n in (1, 3, 5)]
    return [(m, n, status) for m, n in cold for status in (429, 503)]


@pytest.mark.parametrize(("method_id", "nth", "status"), _write_positions())
def test_a_429_or_503_on_any_write_still_converges(project: Project, method_id: str, nth: int, status: int) -> None:
    project.fake.faults.fail(method_id, status=status, nth=nth)
    result = sync(project)
    assert len(result) == len(KEYS)
    for key in KEYS:
        assert project.versions(key) == {"1": "ENABLED"}, key
    project.fake.reset_calls()
    assert not step.plan(project.ctx()).has_changes


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_errors_on_reads_are_retried(project: Project, status: int) -> None:
    sync(project)
    project.fake.faults.fail(SM + "list", status=status)
    project.fake.faults.fail(
        SM + "versions.access", status=status, nth=project.fake.faults.count(SM + "versions.access") + 2
    )
    assert not step.plan(project.ctx()).has_changes


def test_a_prune_delete_with_a_transient_error_converges(project: Project) -> None:
    ours = {"managed-by": "shipit", "app": "acme", "env": "staging"}
    project.fake.secrets.seed(PROJECT, "acme-staging-OLD_KEY", "old", labels=ours)
    project.fake.faults.fail(SM + "delete", status=503)
    sync(project, prune=True)
    assert "acme-staging-OLD_KEY" not in ids(project)


def test_dropped_add_version_response_does_not_duplicate_the_version(project: Project) -> None:
    sync(project)
    project.write_env({**VALUES, "STRIPE_KEY": "after-drop"})
    project.fake.faults.drop_response(SM + "addVersion")
    result = sync(project)
    assert result["STRIPE_KEY"].endswith("/versions/2")
    assert project.versions("STRIPE_KEY") == {"1": "ENABLED", "2": "ENABLED"}
    assert project.value("STRIPE_KEY") == b"after-drop"
    assert [c.dropped for c in project.fake.calls_to(SM + "addVersion")][-1:] == [True]


@pytest.mark.parametrize("nth", [1, 2, 5])
def test_dropped_responses_on_a_cold_sync_do_not_duplicate(project: Project, nth: int) -> None:
    project.fake.faults.drop_response(SM + "create", nth=nth)
    project.fake.faults.drop_response(SM + "addVersion", nth=nth)
    sync(project)
    for key in KEYS:
        assert project.versions(key) == {"1": "ENABLED"}, key


def test_dropped_delete_response_is_success(project: Project) -> None:
    ours = {"managed-by": "shipit", "app": "acme", "env": "staging"}
    project.fake.secrets.seed(PROJECT, "acme-staging-OLD_KEY", "old", labels=ours)
    project.fake.faults.drop_response(SM + "delete")
    sync(project, prune=True)
    assert "acme-staging-OLD_KEY" not in ids(project)


def test_a_persistent_error_fails_with_the_secret_named_and_no_value(project: Project) -> None:
    project.fake.faults.fail(SM + "addVersion", status=403, times=None, message="Permission denied on resource")
    with pytest.raises(ShipitError) as caught:
        sync(project)
    text = caught.value.render()
    assert "acme-staging-" in text and ("403" in text or "permission denied" in text)
    assert not any(v in text for v in VALUES.values())
