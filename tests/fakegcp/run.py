"""Cloud Run Admin API v2: services, revisions, IAM and operations (jobs in run_jobs.py, worker pools in
run_workerpools.py)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

from fakegcp.errors import ApiError
from fakegcp.model import (
    ApiRequest,
    Clock,
    Handler,
    IamPolicies,
    Json,
    Operations,
    any_of,
    apply_mask,
    deep_copy,
    digest,
    etag_of,
    page_body,
    paginate,
    parse_mask,
    uuid_for,
)
from fakegcp.run_jobs import Jobs
from fakegcp.run_shapes import (
    DEFAULT_FAILURE,
    FAILED,
    LATEST,
    OUTPUT_ONLY,
    REVISION,
    SUCCEEDED,
    TAG,
    check_resource_id,
    check_template,
    condition,
    default_service_template,
    not_found,
    service_uri,
    service_urls,
    split_name,
)
from fakegcp.run_workerpools import WorkerPools

SERVICE_TYPE = "google.cloud.run.v2.Service"
REVISION_TYPE = "google.cloud.run.v2.Revision"
ACTOR = "fakegcp@example.com"
Readiness = Callable[[Json, Json], "tuple[str, str] | None"]
_OUTPUT_ONLY = OUTPUT_ONLY | {
    "latestReadyRevision",
    "latestCreatedRevision",
    "trafficStatuses",
    "uri",
    "urls",
    "reconciling",
    "etag",
    "satisfiesPzs",
    "threatDetectionEnabled",
}


class CloudRun:
    """State of Cloud Run: services with their revisions, jobs with their executions."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.services: dict[str, Json] = {}
        self.revisions: dict[str, Json] = {}
        self.revision_templates: dict[str, Json] = {}
        self.operations = Operations("run")
        self.iam = IamPolicies()
        self.failing: dict[str, str] = {}
        self.readiness: Readiness | None = None
        self.jobs = Jobs(self.clock, self.operations, self.iam)
        self.worker_pools = WorkerPools(self.clock, self.operations, self.iam)
        self._seq: dict[str, itertools.count[int]] = {}

    # -- test controls -----------------------------------------------------------------------
    def fail_revisions(self, service: str, message: str = DEFAULT_FAILURE) -> None:
        """New revisions of `service` or worker pool (full name or id) fail to become Ready, with `message`."""
        self.failing[service] = message
        self.worker_pools.fail_revisions(service, message)

    def allow_revisions(self, service: str) -> None:
        self.failing.pop(service, None)
        self.worker_pools.allow_revisions(service)

    def fail_executions(self, job: str, message: str = "Application exited with a non-zero status.") -> None:
        self.jobs.fail_executions(job, message)

    def _readiness(self, service: Json, template: Json) -> tuple[str, str] | None:
        if self.readiness is not None:
            verdict = self.readiness(deep_copy(service), deep_copy(template))
            if verdict is not None:
                return verdict
        sid = service["name"].rsplit("/", 1)[1]
        for key in (service["name"], sid):
            if key in self.failing:
                return "HEALTH_CHECK_CONTAINER_ERROR", self.failing[key]
        return None

    # -- routing -----------------------------------------------------------------------------
    def handlers(self) -> dict[str, Handler]:
        p = "run.projects.locations."
        return {
            p + "services.create": self.create,
            p + "services.get": lambda r: self._view(self._service(r.params["name"])),
            p + "services.list": self.list,
            p + "services.patch": self.patch,
            p + "services.delete": self.delete,
            p + "services.getIamPolicy": lambda r: self.iam.get(self._service(r.params["resource"])["name"]),
            p + "services.setIamPolicy": lambda r: self.iam.set(self._service(r.params["resource"])["name"], r.body),
            p + "services.revisions.get": lambda r: _public(self._revision(r.params["name"])),
            p + "services.revisions.list": self.list_revisions,
            p + "services.revisions.delete": self.delete_revision,
            p + "operations.get": lambda r: self.operations.get(r.params["name"]),
            p + "operations.wait": lambda r: self.operations.wait(r.params["name"]),
            p + "operations.delete": lambda r: self.operations.delete(r.params["name"]),
            p + "operations.list": lambda r: self.operations.list(r.params["name"], r),
            **self.jobs.handlers(),
            **self.worker_pools.handlers(),
        }

    def _service(self, name: str) -> Json:
        service = self.services.get(name)
        if service is None:
            raise not_found("SERVICE", name)
        return service

    def _revision(self, name: str) -> Json:
        revision = self.revisions.get(name)
        if revision is None:
            raise not_found("REVISION", name)
        return revision

    def _view(self, service: Json) -> Json:
        return deep_copy(service)  # type: ignore[no-any-return]

    def _op(self, name: str, service: Json, error: ApiError | None) -> Json:
        location = name.split("/services/")[0]
        view = any_of(SERVICE_TYPE, service)
        return self.operations.start(location, view, view, error)

    # -- services ----------------------------------------------------------------------------
    def create(self, request: ApiRequest) -> Json:
        sid = request.query.get("serviceId", "")
        check_resource_id(sid)
        name = f"{request.params['parent']}/services/{sid}"
        split_name(name)
        if name in self.services:
            raise ApiError.already_exists(f"Resource '{sid}' already exists.")
        return self._create(name, request.body, request.flag("validateOnly"))

    def _create(self, name: str, body: Json, validate_only: bool) -> Json:
        project, location, sid = split_name(name)
        spec = _spec(body)
        check_template(spec.get("template"))
        spec["template"] = default_service_template(spec["template"], project)
        spec.setdefault("ingress", "INGRESS_TRAFFIC_ALL")
        spec.setdefault("launchStage", "GA")
        if not spec.get("traffic"):
            spec["traffic"] = [{"type": LATEST, "percent": 100}]
        self._check_spec(name, spec, None)
        now = self.clock.now()
        service: Json = {
            "name": name,
            "uid": uuid_for("service", name, now),
            "generation": "1",
            "createTime": now,
            "updateTime": now,
            "creator": ACTOR,
            "lastModifier": ACTOR,
            **spec,
            "uri": service_uri(project, location, sid),
            "urls": service_urls(project, location, sid),
            "trafficStatuses": [],
        }
        if validate_only:
            return self._op(name, service, None)
        self.services[name] = service
        self._seq[name] = itertools.count(1)
        error = self._reconcile(service, new_revision=True)
        return self._op(name, service, error)

    def list(self, request: ApiRequest) -> Json:
        parent = request.params["parent"] + "/services/"
        items = [self._view(s) for n, s in sorted(self.services.items()) if n.startswith(parent)]
        page, nxt = paginate(items, request)
        return page_body("services", page, nxt)

    def patch(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        if name not in self.services:
            if not request.flag("allowMissing"):
                raise not_found("SERVICE", name)
            _, _, sid = split_name(name)
            check_resource_id(sid)
            return self._create(name, request.body, request.flag("validateOnly"))
        service = self.services[name]
        etag = request.body.get("etag")
        if etag and etag != service["etag"]:
            raise ApiError.aborted(
                f"The etag of resource '{name.rsplit('/', 1)[1]}' does not match the provided etag "
                f"({etag}); the resource has been modified since it was read. Read it again and retry."
            )
        project = split_name(name)[0]
        current = _spec(service)
        mask = parse_mask(request.query.get("updateMask", ""))
        if mask:
            spec = deep_copy(current)
            apply_mask(spec, _spec(request.body), mask)
        else:
            spec = _spec(request.body)
        check_template(spec.get("template"))
        spec["template"] = default_service_template(spec["template"], project)
        spec.setdefault("ingress", "INGRESS_TRAFFIC_ALL")
        spec.setdefault("launchStage", "GA")
        if not spec.get("traffic"):
            spec["traffic"] = [{"type": LATEST, "percent": 100}]
        force = request.flag("forceNewRevision")
        new_revision = force or _canonical(spec["template"]) != _canonical(current["template"])
        self._check_spec(name, spec, service if not new_revision else None)
        if spec == current and not force:
            return self._op(name, service, None)
        if request.flag("validateOnly"):
            return self._op(name, {**service, **spec}, None)
        for key in current:
            service.pop(key, None)
        service.update(spec)
        service["generation"] = str(int(service["generation"]) + 1)
        service["updateTime"] = self.clock.now()
        service["lastModifier"] = ACTOR
        error = self._reconcile(service, new_revision=new_revision)
        return self._op(name, service, error)

    def delete(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        service = self._service(name)
        etag = request.query.get("etag")
        if etag and etag != service["etag"]:
            raise ApiError.aborted(f"The etag of resource '{name.rsplit('/', 1)[1]}' does not match ({etag}).")
        if request.flag("validateOnly"):
            return self._op(name, service, None)
        del self.services[name]
        for rev in [r for r, v in self.revisions.items() if v["_service"] == name]:
            del self.revisions[rev]
            self.revision_templates.pop(rev, None)
        self.iam.drop(name)
        service["deleteTime"] = self.clock.now()
        return self._op(name, service, None)

    # -- reconciliation ----------------------------------------------------------------------
    def _check_spec(self, name: str, spec: Json, unchanged_of: Json | None) -> None:
        """Synchronous checks: revision name, traffic shape. `unchanged_of` set: the template is unchanged."""
        sid = name.rsplit("/", 1)[1]
        wanted = spec["template"].get("revision")
        if wanted and unchanged_of is None:
            if not wanted.startswith(sid + "-"):
                raise ApiError.invalid_argument(
                    f"service.template.revision: Revision name must be prefixed by the name of the enclosing "
                    f"Service followed by a hyphen: '{sid}-'.",
                    field="service.template.revision",
                )
            rev_name = f"{name}/revisions/{wanted}"
            existing = self.revision_templates.get(rev_name)
            if existing is not None and _canonical(existing) != _canonical(spec["template"]):
                raise ApiError.already_exists(f"Revision named '{wanted}' with different configuration already exists.")
        # A connector is regional: Cloud Run refuses one from another region than the service's.
        connector = str((spec["template"].get("vpcAccess") or {}).get("connector") or "")
        parts = connector.split("/")
        if len(parts) == 6 and parts[2] == "locations" and parts[3] != name.split("/")[3]:
            raise ApiError.invalid_argument(
                f"service.template.vpc_access.connector: VPC connector {connector} must be in the same region as "
                f"the service ({name.split('/')[3]}).",
                field="service.template.vpc_access.connector",
            )
        total = 0
        tags: set[str] = set()
        for i, target in enumerate(spec["traffic"]):
            kind = target.get("type") or (REVISION if target.get("revision") else LATEST)
            if kind == REVISION and not target.get("revision"):
                raise ApiError.invalid_argument(
                    f"service.traffic[{i}].revision: Revision name is required for "
                    "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION."
                )
            if kind == LATEST and target.get("revision"):
                raise ApiError.invalid_argument(
                    f"service.traffic[{i}]: Revision name must not be set for TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST."
                )
            percent = int(target.get("percent", 0))
            if not 0 <= percent <= 100:
                raise ApiError.invalid_argument(f"service.traffic[{i}].percent must be between 0 and 100.")
            total += percent
            tag = target.get("tag")
            if tag:
                if not TAG.match(tag) or tag in tags:
                    raise ApiError.invalid_argument(f"service.traffic[{i}].tag: invalid or duplicate tag '{tag}'.")
                tags.add(tag)
        if total != 100:
            raise ApiError.invalid_argument(
                f"service.traffic: Total traffic percent must be 100, got {total}.", field="service.traffic"
            )

    def _reconcile(self, service: Json, new_revision: bool) -> ApiError | None:
        name = service["name"]
        project, location, sid = split_name(name)
        now = self.clock.now()
        revision_error: str | None = None
        if new_revision:
            revision_error = self._new_revision(service, now)
        elif service.get("latestCreatedRevision"):
            rev = self.revisions.get(service["latestCreatedRevision"])
            if rev is not None and rev["conditions"][0]["state"] == FAILED:
                revision_error = _not_ready(rev)
        statuses, route_error = self._route(service, project, location, sid)
        if route_error is None:
            service["trafficStatuses"] = statuses
        service["observedGeneration"] = service["generation"]
        service["reconciling"] = False
        config = (
            condition("ConfigurationsReady", SUCCEEDED, now)
            if revision_error is None
            else condition("ConfigurationsReady", FAILED, now, revision_error, reason="REVISION_FAILED")
        )
        routes = (
            condition("RoutesReady", SUCCEEDED, now)
            if route_error is None
            else condition("RoutesReady", FAILED, now, route_error)
        )
        message = revision_error or route_error
        service["terminalCondition"] = (
            condition("Ready", SUCCEEDED, now)
            if message is None
            else condition("Ready", FAILED, now, message, reason="REVISION_FAILED" if revision_error else "UNKNOWN")
        )
        service["conditions"] = [config, routes]
        service.pop("etag", None)
        service["etag"] = _etag(service)
        return None if message is None else ApiError.failed_precondition(message)

    def _new_revision(self, service: Json, now: str) -> str | None:
        name = service["name"]
        sid = name.rsplit("/", 1)[1]
        template = service["template"]
        wanted = template.get("revision")
        if wanted:
            rev_name = f"{name}/revisions/{wanted}"
            if rev_name in self.revisions:  # same configuration: nothing new to roll out
                service["latestCreatedRevision"] = rev_name
                return (
                    None
                    if self.revisions[rev_name]["conditions"][0]["state"] == SUCCEEDED
                    else _not_ready(self.revisions[rev_name])
                )
        else:
            number = next(self._seq[name])
            rev_name = f"{name}/revisions/{sid}-{number:05d}-{digest(name, number, length=3)}"
        verdict = self._readiness(service, template)
        rid = rev_name.rsplit("/", 1)[1]
        project = split_name(name)[0]
        revision: Json = {
            "name": rev_name,
            "uid": uuid_for("revision", rev_name, now),
            "generation": "1",
            "labels": deep_copy(template.get("labels", {})),
            "annotations": deep_copy(template.get("annotations", {})),
            "createTime": now,
            "updateTime": now,
            "launchStage": service.get("launchStage", "GA"),
            "service": sid,
            "_service": name,
            "observedGeneration": "1",
            "reconciling": False,
            "logUri": f"https://console.cloud.google.com/logs/viewer?project={project}&resource=cloud_run_revision"
            f"/service_name/{sid}/revision_name/{rid}",
        }
        for key in (
            "scaling",
            "containers",
            "volumes",
            "serviceAccount",
            "timeout",
            "maxInstanceRequestConcurrency",
            "executionEnvironment",
            "encryptionKey",
            "vpcAccess",
            "sessionAffinity",
            "nodeSelector",
        ):
            if key in template:
                revision[key] = deep_copy(template[key])
        if verdict is None:
            revision["conditions"] = [
                condition("Ready", SUCCEEDED, now),
                condition("ContainerHealthy", SUCCEEDED, now),
                condition("ResourcesAvailable", SUCCEEDED, now),
            ]
        else:
            reason, message = verdict
            revision["conditions"] = [
                condition("Ready", FAILED, now, message, reason="REVISION_FAILED"),
                condition("ContainerHealthy", FAILED, now, message, revisionReason=reason),
                condition("ResourcesAvailable", SUCCEEDED, now),
            ]
        revision["etag"] = _etag(revision)
        self.revisions[rev_name] = revision
        self.revision_templates[rev_name] = deep_copy(template)
        service["latestCreatedRevision"] = rev_name
        if verdict is None:
            service["latestReadyRevision"] = rev_name
            return None
        return _not_ready(revision)

    def _route(self, service: Json, project: str, location: str, sid: str) -> tuple[list[Json], str | None]:
        statuses: list[Json] = []
        for target in service["traffic"]:
            kind = target.get("type") or (REVISION if target.get("revision") else LATEST)
            if kind == LATEST:
                rev_name = service.get("latestReadyRevision")
                if rev_name is None:
                    return [], (
                        f"Revision '{service.get('latestCreatedRevision', '').rsplit('/', 1)[-1]}' is not "
                        "ready and cannot serve traffic."
                    )
            else:
                rev_name = f"{service['name']}/revisions/{target['revision']}"
                rev = self.revisions.get(rev_name)
                if rev is None:
                    return [], (
                        f"Revision '{target['revision']}' does not exist or is deleted. Update all traffic "
                        "to route to currently available revisions."
                    )
                if rev["conditions"][0]["state"] != SUCCEEDED:
                    return [], _not_ready(rev)
            status: Json = {"type": kind}
            if kind == REVISION:
                status["revision"] = target["revision"]
            if target.get("percent"):
                status["percent"] = int(target["percent"])
            if target.get("tag"):
                status["tag"] = target["tag"]
                status["uri"] = service_uri(project, location, sid, target["tag"])
            statuses.append(status)
        return statuses, None

    # -- revisions ---------------------------------------------------------------------------
    def list_revisions(self, request: ApiRequest) -> Json:
        parent = request.params["parent"]
        if parent.rsplit("/", 1)[1] != "-":
            self._service(parent)
        items = [
            _public(r)
            for r in reversed(self.revisions.values())
            if r["_service"] == parent or (parent.endswith("/services/-") and r["_service"].startswith(parent[:-1]))
        ]
        page, nxt = paginate(items, request)
        return page_body("revisions", page, nxt)

    def delete_revision(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        revision = self._revision(name)
        service = self.services[revision["_service"]]
        rid = name.rsplit("/", 1)[1]
        etag = request.query.get("etag")
        if etag and etag != revision["etag"]:
            raise ApiError.aborted(f"The etag of revision '{rid}' does not match ({etag}).")
        serving = {
            s.get("revision") or (service.get("latestReadyRevision") or "").rsplit("/", 1)[-1]
            for s in service.get("trafficStatuses", [])
            if s.get("percent") or s.get("tag")
        }
        if rid in serving:
            raise ApiError.failed_precondition(
                f"Revision '{rid}' cannot be deleted because it is serving traffic. Update the traffic "
                "configuration of the service first."
            )
        if name in (service.get("latestCreatedRevision"), service.get("latestReadyRevision")):
            raise ApiError.failed_precondition(
                f"Revision '{rid}' cannot be deleted because it is the latest revision of service "
                f"'{service['name'].rsplit('/', 1)[1]}'."
            )
        if request.flag("validateOnly"):
            return self.operations.start(
                name.split("/services/")[0],
                any_of(REVISION_TYPE, _public(revision)),
                any_of(REVISION_TYPE, _public(revision)),
            )
        del self.revisions[name]
        self.revision_templates.pop(name, None)
        view = any_of(REVISION_TYPE, _public(revision))
        return self.operations.start(name.split("/services/")[0], view, view)

    # -- inspection helpers ------------------------------------------------------------------
    def revision_names(self, service: str) -> list[str]:
        """Revision ids of a service (full name), oldest first."""
        return [r.rsplit("/", 1)[1] for r, v in self.revisions.items() if v["_service"] == service]


def _spec(body: Json) -> Json:
    return {k: deep_copy(v) for k, v in body.items() if k not in _OUTPUT_ONLY}


def _public(obj: Json) -> Json:
    return {k: deep_copy(v) for k, v in obj.items() if not k.startswith("_")}


def _canonical(template: Json) -> str:
    return json.dumps(template, sort_keys=True)


def _etag(obj: Json) -> str:
    return etag_of({k: v for k, v in obj.items() if k not in ("etag", "_service")})


def _not_ready(revision: Json) -> str:
    rid = revision["name"].rsplit("/", 1)[1]
    reason = revision["conditions"][0].get("message", "")
    return f"Revision '{rid}' is not ready and cannot serve traffic. {reason}"
