from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import run_v2
from google.protobuf import field_mask_pb2

from fakegcp_tests.helpers import PARENT, Clients

LATEST = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST
REVISION = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
SUCCEEDED = run_v2.Condition.State.CONDITION_SUCCEEDED
FAILED = run_v2.Condition.State.CONDITION_FAILED


def _deploy(c: Clients, image: str = "img:1", sid: str = "api", **extra: Any) -> run_v2.Service:
    return c.services.create_service(
        parent=PARENT, service_id=sid, service={"template": {"containers": [{"image": image}]}, **extra}
    ).result()


def _update(c: Clients, service: run_v2.Service, image: str) -> run_v2.Service:
    service.template.containers[0].image = image
    return c.services.update_service(service=service).result()


def test_create_service_shape(clients: Clients) -> None:
    s = _deploy(clients, labels={"app": "acme"})
    assert s.name == f"{PARENT}/services/api"
    assert s.generation == 1 and s.observed_generation == 1
    assert s.uri.startswith("https://api-") and s.uri.endswith("-uc.a.run.app")
    assert s.terminal_condition.type_ == "Ready" and s.terminal_condition.state == SUCCEEDED
    assert {c.type_ for c in s.conditions} == {"ConfigurationsReady", "RoutesReady"}
    assert s.latest_ready_revision == s.latest_created_revision
    assert s.latest_created_revision.rsplit("/", 1)[1].startswith("api-00001-")
    assert [(t.type_, t.percent) for t in s.traffic_statuses] == [(LATEST, 100)]
    assert s.template.containers[0].resources.limits["memory"] == "512Mi"  # server-side default
    assert s.etag and s.uid and s.create_time.year > 2000
    assert clients.services.get_service(name=s.name).etag == s.etag


@pytest.mark.parametrize("sid", ["Api", "1api", "api-", "a" * 50, "a_b"])
def test_bad_service_id(mocked: Clients, sid: str) -> None:
    with pytest.raises(exceptions.BadRequest):
        _deploy(mocked, sid=sid)


def test_create_existing_is_409(mocked: Clients) -> None:
    _deploy(mocked)
    with pytest.raises(exceptions.Conflict):
        _deploy(mocked)


def test_revision_only_on_template_change(clients: Clients) -> None:
    s = _deploy(clients)
    same = clients.services.update_service(service=s).result()
    assert same.latest_created_revision == s.latest_created_revision and same.generation == 1
    s.labels["team"] = "x"  # service-level change: new generation, no revision
    labelled = clients.services.update_service(service=s).result()
    assert labelled.generation == 2 and labelled.latest_created_revision == s.latest_created_revision
    new = _update(clients, labelled, "img:2")
    assert new.latest_created_revision.rsplit("/", 1)[1].startswith("api-00002-")
    assert new.latest_ready_revision == new.latest_created_revision
    revs = [r.name for r in clients.revisions.list_revisions(parent=s.name)]
    assert revs == [new.latest_created_revision, s.latest_created_revision]  # newest first


def test_update_mask_and_allow_missing(mocked: Clients) -> None:
    s = _deploy(mocked)
    patched = mocked.services.update_service(
        request={
            "service": {"name": s.name, "labels": {"a": "b"}},
            "update_mask": field_mask_pb2.FieldMask(paths=["labels"]),
        }
    ).result()
    assert dict(patched.labels) == {"a": "b"} and patched.template.containers[0].image == "img:1"
    with pytest.raises(exceptions.NotFound):
        mocked.services.update_service(
            service={"name": f"{PARENT}/services/new", "template": {"containers": [{"image": "x"}]}}
        )
    created = mocked.services.update_service(
        request={
            "allow_missing": True,
            "service": {"name": f"{PARENT}/services/new", "template": {"containers": [{"image": "x"}]}},
        }
    ).result()
    assert created.generation == 1


def test_etag_mismatch_is_409(clients: Clients) -> None:
    s = _deploy(clients)
    _update(clients, clients.services.get_service(name=s.name), "img:2")
    with pytest.raises(exceptions.Conflict) as err:
        _update(clients, s, "img:3")  # s carries the etag from before
    assert "etag" in err.value.message


def test_named_revision_and_traffic_split(mocked: Clients) -> None:
    s = _deploy(mocked)
    first = s.latest_created_revision.rsplit("/", 1)[1]
    s.template.revision = "api-green"
    s.template.containers[0].image = "img:2"
    s.traffic = [
        {"type_": REVISION, "revision": first, "percent": 90},
        {"type_": REVISION, "revision": "api-green", "percent": 10, "tag": "green"},
    ]
    split = mocked.services.update_service(service=s).result()
    assert split.latest_created_revision.endswith("/revisions/api-green")
    statuses = {t.revision: t for t in split.traffic_statuses}
    assert statuses[first].percent == 90 and statuses["api-green"].percent == 10
    assert statuses["api-green"].uri.startswith("https://green---api-")
    split.template.containers[0].image = "img:3"  # same revision name, different template
    with pytest.raises(exceptions.Conflict):
        mocked.services.update_service(service=split).result()


def test_traffic_errors(mocked: Clients) -> None:
    s = _deploy(mocked)
    s.traffic = [{"type_": LATEST, "percent": 50}]
    with pytest.raises(exceptions.BadRequest):  # must sum to 100
        mocked.services.update_service(service=s)
    s.traffic = [{"type_": REVISION, "revision": "api-nope", "percent": 100}]
    with pytest.raises(exceptions.GoogleAPICallError) as err:
        mocked.services.update_service(service=s).result()
    assert "does not exist" in err.value.message
    got = mocked.services.get_service(name=s.name)
    assert got.terminal_condition.state == FAILED
    assert [(t.type_, t.percent) for t in got.traffic_statuses] == [(LATEST, 100)]  # unchanged


def test_failing_readiness_keeps_traffic_on_old_revision(clients: Clients) -> None:
    s = _deploy(clients)
    clients.fake.run.fail_revisions("api", message="container exited with code 1")
    with pytest.raises(exceptions.GoogleAPICallError) as err:
        _update(clients, s, "img:bad")
    assert "is not ready and cannot serve traffic" in err.value.message
    assert "container exited with code 1" in err.value.message
    got = clients.services.get_service(name=s.name)
    assert got.latest_created_revision != got.latest_ready_revision == s.latest_ready_revision
    assert got.terminal_condition.state == FAILED
    assert got.traffic_statuses[0].type_ == LATEST and got.traffic_statuses[0].percent == 100
    bad = clients.revisions.get_revision(name=got.latest_created_revision)
    ready = next(c for c in bad.conditions if c.type_ == "Ready")
    assert ready.state == FAILED and "code 1" in ready.message
    clients.fake.run.allow_revisions("api")
    fixed = _update(clients, got, "img:good")
    assert fixed.terminal_condition.state == SUCCEEDED


def test_readiness_callable(mocked: Clients) -> None:
    mocked.fake.run.readiness = lambda service, template: (
        ("HEALTH_CHECK_CONTAINER_ERROR", "bad image") if template["containers"][0]["image"] == "bad" else None
    )
    with pytest.raises(exceptions.GoogleAPICallError):
        _deploy(mocked, image="bad")
    s = mocked.services.get_service(name=f"{PARENT}/services/api")
    assert not s.latest_ready_revision and list(s.traffic_statuses) == []


def test_delete_revision_rules(mocked: Clients) -> None:
    s = _deploy(mocked)
    old = s.latest_created_revision
    with pytest.raises(exceptions.BadRequest):  # serving traffic
        mocked.revisions.delete_revision(name=old).result()
    _update(mocked, s, "img:2")
    mocked.revisions.delete_revision(name=old).result()
    with pytest.raises(exceptions.NotFound):
        mocked.revisions.get_revision(name=old)


def test_list_paginates_and_delete(mocked: Clients) -> None:
    for i in range(5):
        _deploy(mocked, sid=f"svc{i}")
    pages = list(mocked.services.list_services(request={"parent": PARENT, "page_size": 2}).pages)
    assert [len(p.services) for p in pages] == [2, 2, 1]
    deleted = mocked.services.delete_service(name=f"{PARENT}/services/svc0").result()
    assert deleted.name.endswith("svc0")
    with pytest.raises(exceptions.NotFound):
        mocked.services.get_service(name=f"{PARENT}/services/svc0")
    assert not [r for r in mocked.fake.run.revisions if "/svc0/" in r]


def test_operations_get_wait_list(mocked: Clients) -> None:
    mocked.fake.run.operations.polls_before_done = 2
    op = mocked.services.create_service(
        parent=PARENT, service_id="slow", service={"template": {"containers": [{"image": "x"}]}}
    )
    assert op.result(timeout=30).name.endswith("/slow")
    gets = mocked.fake.calls_to("run.projects.locations.operations.get")
    assert len(gets) >= 2
    ops = mocked.services.list_operations(request={"name": PARENT})
    assert any(o.name == op.operation.name for o in ops.operations)
    waited = mocked.services.wait_operation(request={"name": op.operation.name})
    assert waited.done


def test_iam_policy(clients: Clients) -> None:
    s = _deploy(clients)
    p = clients.services.get_iam_policy(request={"resource": s.name})
    new = clients.services.set_iam_policy(
        request={
            "resource": s.name,
            "policy": {"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}], "etag": p.etag},
        }
    )
    assert new.bindings[0].role == "roles/run.invoker"
    assert clients.services.get_iam_policy(request={"resource": s.name}).etag == new.etag
    with pytest.raises(exceptions.Conflict):
        clients.services.set_iam_policy(request={"resource": s.name, "policy": {"etag": p.etag}})


def test_jobs_and_executions(clients: Clients) -> None:
    job = clients.jobs.create_job(
        parent=PARENT,
        job_id="migrate",
        job={"template": {"template": {"containers": [{"image": "img:1", "args": ["migrate"]}]}}},
    ).result()
    assert clients.jobs.get_job(name=job.name).template.task_count == 1
    ex = clients.jobs.run_job(
        request={"name": job.name, "overrides": {"container_overrides": [{"args": ["upgrade", "head"]}]}}
    ).result()
    assert ex.succeeded_count == 1 and ex.template.containers[0].args == ["upgrade", "head"]
    clients.fake.run.fail_executions("migrate", 'relation "users" already exists')
    with pytest.raises(exceptions.GoogleAPICallError) as err:
        clients.jobs.run_job(name=job.name).result()
    assert "already exists" in err.value.message
    executions = list(clients.executions.list_executions(parent=job.name))
    assert len(executions) == 2 and executions[0].failed_count == 1
    assert clients.executions.get_execution(name=ex.name).name == ex.name
    assert clients.jobs.get_job(name=job.name).execution_count == 2


def test_sidecars_volumes_and_service_level_fields_round_trip(mocked: Clients) -> None:
    template = {
        "containers": [
            {
                "name": "api",
                "image": "img:1",
                "ports": [{"name": "h2c", "container_port": 8080}],
                "depends_on": ["proxy"],
                "volume_mounts": [{"name": "data", "mount_path": "/data"}],
                "readiness_probe": {"http_get": {"path": "/ready"}, "period_seconds": 5, "timeout_seconds": 1},
            },
            {"name": "proxy", "image": "nginx", "startup_probe": {"tcp_socket": {"port": 9000}}},
        ],
        "volumes": [
            {"name": "data", "gcs": {"bucket": "b", "read_only": True, "mount_options": ["implicit-dirs"]}},
            {"name": "share", "nfs": {"server": "10.0.0.2", "path": "/x"}},
            {"name": "cache", "empty_dir": {"medium": "MEMORY", "size_limit": "64Mi"}},
        ],
    }
    s = _deploy(
        mocked,
        template=template,
        description="d",
        iap_enabled=True,
        invoker_iam_disabled=True,
        default_uri_disabled=True,
        custom_audiences=["https://a"],
        scaling={"scaling_mode": run_v2.ServiceScaling.ScalingMode.MANUAL, "manual_instance_count": 2},
    )
    assert s.description == "d" and s.iap_enabled and s.invoker_iam_disabled and s.default_uri_disabled
    assert list(s.custom_audiences) == ["https://a"] and s.scaling.manual_instance_count == 2
    assert list(s.template.containers[0].depends_on) == ["proxy"]
    assert s.template.containers[0].readiness_probe.http_get.path == "/ready"
    assert s.template.volumes[0].gcs.bucket == "b" and s.template.volumes[1].nfs.server == "10.0.0.2"
    assert s.template.volumes[2].empty_dir.size_limit == "64Mi"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t["containers"][1].pop("name"), "unique name"),
        (lambda t: t["containers"][0].update(depends_on=["nope"]), "not another container"),
        (lambda t: t["containers"][0].update(volume_mounts=[{"name": "x", "mount_path": "/x"}]), "not defined"),
        (lambda t: t["containers"][0].update(liveness_probe={"period_seconds": 5, "timeout_seconds": 6}), "exceed"),
        (lambda t: t["containers"][1].update(startup_probe={"initial_delay_seconds": 300}), "at most 240"),
    ],
)
def test_multi_container_rules(mocked: Clients, change: Any, message: str) -> None:
    template: dict[str, Any] = {
        "containers": [
            {"name": "api", "image": "img:1", "ports": [{"container_port": 8080}]},
            {"name": "proxy", "image": "nginx"},
        ]
    }
    change(template)
    with pytest.raises(exceptions.BadRequest, match=message):
        _deploy(mocked, template=template)


def test_a_connector_must_be_in_the_services_region(mocked: Clients) -> None:
    def create(connector: str) -> Any:
        template = {"containers": [{"image": "img:1"}], "vpc_access": {"connector": connector}}
        return mocked.services.create_service(parent=PARENT, service_id="api", service={"template": template})

    project = PARENT.split("/")[1]
    with pytest.raises(exceptions.BadRequest) as err:
        create(f"projects/{project}/locations/europe-west1/connectors/run")
    assert "must be in the same region" in err.value.message
    here = f"{PARENT}/connectors/run"
    assert create(here).result().template.vpc_access.connector == here
