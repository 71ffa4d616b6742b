"""Planning and applying migrations against in-memory state: job naming, rendering, idempotence."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shipit.config import load_config, resolve_target
from shipit.errors import UsageError
from shipit.names import JOB_ID_MAX, MIGRATE_HASH_LABEL, job_id
from shipit.plan import Action
from shipit.render.cloudrun import SecretRef, ServiceInputs, VpcAccess, render_service
from shipit.render.cloudrun_job import migration_hash, render_job
from shipit.steps import migrate

VALID_ID = re.compile(r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$")


# -- naming and rendering ----------------------------------------------------------------------------


def test_job_id_is_app_migrate_db() -> None:
    assert job_id("acme", "main") == "acme-migrate-main"


def test_long_job_ids_are_cut_to_a_valid_unique_name() -> None:
    app, a, b = "a" * 20, "x" * 29 + "1", "x" * 29 + "2"
    first, second = job_id(app, a), job_id(app, b)
    assert first != second
    for name in (first, second):
        assert len(name) <= JOB_ID_MAX and VALID_ID.match(name), name
        assert name.startswith(app + "-migrate-")


def _service(setup: Any) -> Any:
    return resolve_target(load_config(setup.root / "shipit.yaml", "shipit.yaml"), "staging").config


def test_render_job_keeps_what_the_service_gets_and_drops_serving_only_fields(setup: Any) -> None:
    config = _service(setup)
    service, db = config.services["api"], config.databases["main"]
    inputs = ServiceInputs(
        image=setup.IMAGE_A,
        env={"LOG_LEVEL": "info", "EMPTY": ""},
        secret_env={"STRIPE_KEY": SecretRef("acme-staging-STRIPE_KEY", "3")},
        secret_files={"/secrets/key.json": SecretRef("acme-staging-GCP_KEY", "1")},
        service_account="api@acme-staging.iam.gserviceaccount.com",
        vpc=VpcAccess(egress="private-ranges-only", connector="projects/p/locations/r/connectors/c"),
        cloudsql_instances=("acme-staging:us-central1:acme-main",),
        labels={"managed-by": "shipit"},
    )
    spec = render_job(service, inputs, db.migrate)
    served = render_service(service, inputs)["template"]
    task = spec["template"]["template"]
    [container] = task["containers"]

    assert container["command"] == ["alembic", "upgrade", "head"]
    assert container["env"] == served["containers"][0]["env"]
    assert container["volumeMounts"] == served["containers"][0]["volumeMounts"]
    assert container["resources"] == {"limits": served["containers"][0]["resources"]["limits"]}
    assert task["volumes"] == served["volumes"]
    assert task["vpcAccess"] == served["vpcAccess"]
    assert task["serviceAccount"] == served["serviceAccount"]
    assert not {"args", "ports", "startupProbe", "livenessProbe"} & set(container)
    assert task["maxRetries"] == 0
    assert task["timeout"] == "120s"
    assert spec["template"]["taskCount"] == 1
    assert spec["labels"]["managed-by"] == "shipit"
    assert (
        spec["labels"][MIGRATE_HASH_LABEL]
        == spec["template"]["labels"][MIGRATE_HASH_LABEL]
        == migration_hash(container)
    )
    assert re.fullmatch(r"[0-9a-f]{12}", spec["labels"][MIGRATE_HASH_LABEL])


def test_migration_hash_covers_image_command_and_env_but_not_their_order() -> None:
    base = {
        "image": "img@sha256:1",
        "command": ["migrate"],
        "env": [
            {"name": "A", "value": "1"},
            {"name": "S", "valueSource": {"secretKeyRef": {"secret": "acme-S", "version": "2"}}},
        ],
    }
    same = {**base, "env": list(reversed(base["env"]))}
    full_secret_name = {
        **base,
        "env": [
            {"name": "A", "value": "1"},
            {"name": "S", "valueSource": {"secretKeyRef": {"secret": "projects/p/secrets/acme-S", "version": "2"}}},
        ],
    }
    assert migration_hash(base) == migration_hash(same) == migration_hash(full_secret_name)
    assert migration_hash(base) != migration_hash({**base, "image": "img@sha256:2"})
    assert migration_hash(base) != migration_hash({**base, "command": ["other"]})
    assert migration_hash(base) != migration_hash({**base, "env": base["env"][:1]})


# -- planning ----------------------------------------------------------------------------------------


def _plan(setup: Any, **ctx: Any) -> Any:
    return migrate.plan(setup.ctx(**ctx))


def _apply(setup: Any, **ctx: Any) -> tuple[Any, dict[str, Any]]:
    context = setup.ctx(**ctx)
    plan = migrate.plan(context)
    return plan, migrate.apply(context, plan)


def test_no_migration_declared_plans_nothing_and_calls_nothing(setup: Any) -> None:
    setup.write(
        setup.CONFIG.replace(
            '    migrate: {command: "alembic upgrade head", timeout: 120s}\n', "    tier: db-f1-micro\n"
        )
    )
    plan = _plan(setup)
    assert plan.changes == () and setup.run.calls == []


def test_a_new_job_is_created_and_run(setup: Any) -> None:
    plan, result = _apply(setup)
    assert plan.changes[0].action is Action.CREATE
    assert [w.split(" ")[0] for w in setup.run.writes] == ["create_job", "run_job"]
    assert result["main"] == {
        "job": "acme-migrate-main",
        "execution": "run-1",
        "status": "succeeded",
        "hash": plan.changes[0].payload.hash,
    }


def test_a_finished_migration_plans_a_noop_and_apply_writes_nothing(setup: Any) -> None:
    _apply(setup)
    setup.run.calls.clear()
    plan, result = _apply(setup)
    assert not plan.has_changes
    assert setup.run.writes == []
    assert result["main"]["status"] == "unchanged"
    assert result["main"]["execution"] == "run-1"


def test_predict_says_what_apply_will_return(setup: Any) -> None:
    context = setup.ctx()
    plan = migrate.plan(context)
    assert migrate.predict(context, plan)["main"]["status"] == "planned"
    migrate.apply(context, plan)
    plan = migrate.plan(context)
    assert migrate.predict(context, plan) == migrate.apply(context, plan)


def test_a_changed_image_updates_and_reruns(setup: Any) -> None:
    _apply(setup)
    plan, _ = _apply(setup, image=setup.IMAGE_B)
    [change] = plan.changes
    assert change.action is Action.UPDATE
    assert change.payload.write == "update" and change.payload.run
    assert {d.field for d in change.diffs} == {
        "container.image",
        f"labels.{MIGRATE_HASH_LABEL}",
        f"template.labels.{MIGRATE_HASH_LABEL}",
    }
    assert setup.run.jobs[setup.JOB].spec["template"]["template"]["containers"][0]["image"] == setup.IMAGE_B


def test_a_failed_last_run_is_run_again_without_updating_the_job(setup: Any) -> None:
    setup.run.outcome = "failed"
    with pytest.raises(migrate.MigrationFailed) as err:
        _apply(setup)
    assert "no such table" in err.value.message and "logs: https://console.cloud.google.com" in err.value.message
    setup.run.outcome = "succeeded"
    setup.run.calls.clear()
    plan, result = _apply(setup)
    assert plan.changes[0].action is Action.UPDATE and "last run failed" in plan.changes[0].summary
    assert [w.split(" ")[0] for w in setup.run.writes] == ["run_job"]
    assert result["main"]["status"] == "succeeded"


def test_a_timeout_change_alone_updates_the_job_without_rerunning(setup: Any) -> None:
    _apply(setup)
    setup.write(setup.CONFIG.replace("timeout: 120s", "timeout: 300s"))
    setup.run.calls.clear()
    plan, _ = _apply(setup)
    assert plan.changes[0].action is Action.UPDATE and not plan.changes[0].payload.run
    assert [w.split(" ")[0] for w in setup.run.writes] == ["update_job"]


def test_a_running_execution_of_the_same_migration_is_waited_for_not_rerun(setup: Any) -> None:
    _apply(setup)
    job = setup.run.jobs[setup.JOB]
    digest = job.spec["labels"][MIGRATE_HASH_LABEL]
    running = setup.run.execution(setup.JOB, digest, "running", n=7)
    setup.run.jobs[setup.JOB] = type(job)(job.name, job.etag, job.spec, running.name)

    plan = _plan(setup)
    [change] = plan.changes
    assert change.action is Action.UPDATE and not change.payload.run
    assert "wait for the running execution run-7" in change.summary
    with pytest.raises(migrate.MigrationFailed, match="did not finish"):
        migrate.apply(setup.ctx(), plan)
    assert not any(w.startswith("run_job") for w in setup.run.writes[2:])


def test_a_running_older_migration_is_waited_for_then_the_new_one_runs(setup: Any) -> None:
    _apply(setup)
    job = setup.run.jobs[setup.JOB]
    older = setup.run.execution(setup.JOB, "000000000000", "succeeded", n=7)
    older = type(older)(**{**older.__dict__, "done": False})
    setup.run.executions[older.name] = older
    setup.run.jobs[setup.JOB] = type(job)(job.name, job.etag, job.spec, older.name)
    plan = _plan(setup)
    assert plan.changes[0].payload.run and plan.changes[0].payload.wait_for == older.name
    assert "after the running execution run-7" in plan.changes[0].summary


def test_secrets_are_pinned_to_the_synced_versions(setup: Any) -> None:
    plan = _plan(setup, stripe=9)
    env = plan.changes[0].payload.spec["template"]["template"]["containers"][0]["env"]
    refs = {e["name"]: e["valueSource"]["secretKeyRef"] for e in env if "valueSource" in e}
    assert refs["STRIPE_KEY"] == {"secret": "acme-staging-STRIPE_KEY", "version": "9"}
    assert refs["DATABASE_URL"]["version"] == "1"


def test_offline_makes_no_call_and_plans_as_if_nothing_existed(setup: Any) -> None:
    _apply(setup)
    setup.run.offline = True
    plan = migrate.plan(setup.ctx(offline=True))
    assert plan.changes[0].action is Action.CREATE
    assert any("offline" in n for n in plan.notes)


def test_the_deployed_image_is_used_when_no_new_one_is_given(setup: Any) -> None:
    setup.run.services[f"{setup.PARENT}/services/api"] = {
        "template": {"containers": [{"image": setup.IMAGE_B}]},
    }
    plan = _plan(setup, image=None)
    assert plan.changes[0].payload.spec["template"]["template"]["containers"][0]["image"] == setup.IMAGE_B


def test_no_image_anywhere_is_a_usage_error(setup: Any) -> None:
    with pytest.raises(UsageError, match="no image for service api"):
        _plan(setup, image=None)


def test_an_unknown_service_url_is_left_out_but_does_not_change_the_hash(setup: Any) -> None:
    setup.write(
        setup.CONFIG.replace("env: {LOG_LEVEL: info}", 'env: {LOG_LEVEL: info, WEB: "${services.web.url}"}')
        + "  web: {}\n"
    )
    before = _plan(setup)
    env = before.changes[0].payload.spec["template"]["template"]["containers"][0]["env"]
    assert "WEB" not in {e["name"] for e in env}
    assert any("WEB left out" in n for n in before.notes)
    setup.run.services[f"{setup.PARENT}/services/web"] = {"uri": "https://web-xyz.a.run.app"}
    after = _plan(setup)
    env = after.changes[0].payload.spec["template"]["template"]["containers"][0]["env"]
    assert {"name": "WEB", "value": "https://web-xyz.a.run.app"} in env
    assert after.changes[0].payload.hash == before.changes[0].payload.hash
