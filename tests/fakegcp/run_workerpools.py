"""Cloud Run Admin API v2 worker pools and their revisions: instance-based workloads with no URL.

Like services (run.py), a create or a patch that changes the template makes a revision, which is
Ready unless told to fail; ``instanceSplits`` (the worker pool's traffic) must add up to 100 and
point at Ready revisions. No ports, no traffic tags, no URI.
"""

from __future__ import annotations

import itertools
import json

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
    project_number,
    uuid_for,
)
from fakegcp.run_shapes import (
    DEFAULT_FAILURE,
    FAILED,
    OUTPUT_ONLY,
    SUCCEEDED,
    check_resource_id,
    condition,
    not_found,
    split_name,
)

WORKER_POOL_TYPE = "google.cloud.run.v2.WorkerPool"
REVISION_TYPE = "google.cloud.run.v2.Revision"
LATEST = "INSTANCE_SPLIT_ALLOCATION_TYPE_LATEST"
REVISION = "INSTANCE_SPLIT_ALLOCATION_TYPE_REVISION"
ACTOR = "fakegcp@example.com"
_OUTPUT = OUTPUT_ONLY | {
    "latestReadyRevision",
    "latestCreatedRevision",
    "instanceSplitStatuses",
    "reconciling",
    "etag",
    "satisfiesPzs",
    "threatDetectionEnabled",
}


class WorkerPools:
    """Worker pools with their revisions. A revision fails to become Ready when told to."""

    def __init__(self, clock: Clock, operations: Operations, iam: IamPolicies) -> None:
        self.clock = clock
        self.operations = operations
        self.iam = iam
        self.pools: dict[str, Json] = {}
        self.revisions: dict[str, Json] = {}
        self.failing: dict[str, str] = {}
        self._seq: dict[str, itertools.count[int]] = {}

    def fail_revisions(self, pool: str, message: str = DEFAULT_FAILURE) -> None:
        """New revisions of `pool` (full name or id) fail to become Ready, with `message`."""
        self.failing[pool] = message

    def allow_revisions(self, pool: str) -> None:
        self.failing.pop(pool, None)

    def handlers(self) -> dict[str, Handler]:
        p = "run.projects.locations.workerPools."
        return {
            p + "create": self.create,
            p + "get": lambda r: deep_copy(self._pool(r.params["name"])),
            p + "list": self.list,
            p + "patch": self.patch,
            p + "delete": self.delete,
            p + "getIamPolicy": lambda r: self.iam.get(self._pool(r.params["resource"])["name"]),
            p + "setIamPolicy": lambda r: self.iam.set(self._pool(r.params["resource"])["name"], r.body),
            p + "revisions.get": lambda r: _public(self._revision(r.params["name"])),
            p + "revisions.list": self.list_revisions,
        }

    def _pool(self, name: str) -> Json:
        pool = self.pools.get(name)
        if pool is None:
            raise not_found("WORKER_POOL", name)
        return pool

    def _revision(self, name: str) -> Json:
        revision = self.revisions.get(name)
        if revision is None:
            raise not_found("REVISION", name)
        return revision

    def _op(self, name: str, pool: Json, error: ApiError | None) -> Json:
        view = any_of(WORKER_POOL_TYPE, pool)
        return self.operations.start(name.split("/workerPools/")[0], view, view, error)

    # -- worker pools --------------------------------------------------------------------------
    def create(self, request: ApiRequest) -> Json:
        pid = request.query.get("workerPoolId", "")
        check_resource_id(pid, "worker_pool")
        name = f"{request.params['parent']}/workerPools/{pid}"
        split_name(name)
        if name in self.pools:
            raise ApiError.already_exists(f"Resource '{pid}' already exists.")
        spec = _defaults(_spec(request.body), name)
        now = self.clock.now()
        pool: Json = {
            "name": name,
            "uid": uuid_for("workerPool", name, now),
            "generation": "1",
            "createTime": now,
            "updateTime": now,
            "creator": ACTOR,
            "lastModifier": ACTOR,
            **spec,
        }
        if request.flag("validateOnly"):
            return self._op(name, pool, None)
        self.pools[name] = pool
        self._seq[name] = itertools.count(1)
        return self._op(name, pool, self._reconcile(pool, new_revision=True))

    def list(self, request: ApiRequest) -> Json:
        parent = request.params["parent"] + "/workerPools/"
        items = [deep_copy(p) for n, p in sorted(self.pools.items()) if n.startswith(parent)]
        page, nxt = paginate(items, request)
        return page_body("workerPools", page, nxt)

    def patch(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        pool = self._pool(name)
        etag = request.body.get("etag")
        if etag and etag != pool["etag"]:
            raise ApiError.aborted(
                f"The etag of resource '{name.rsplit('/', 1)[1]}' does not match the provided etag "
                f"({etag}); the resource has been modified since it was read. Read it again and retry."
            )
        current = _spec(pool)
        mask = parse_mask(request.query.get("updateMask", ""))
        if mask:
            spec = deep_copy(current)
            apply_mask(spec, _spec(request.body), mask)
        else:
            spec = _spec(request.body)
        spec = _defaults(spec, name)
        force = request.flag("forceNewRevision")
        new_revision = force or _canonical(spec["template"]) != _canonical(current["template"])
        if spec == current and not force:
            return self._op(name, pool, None)
        if request.flag("validateOnly"):
            return self._op(name, {**pool, **spec}, None)
        for key in current:
            pool.pop(key, None)
        pool.update(spec)
        pool["generation"] = str(int(pool["generation"]) + 1)
        pool["updateTime"] = self.clock.now()
        pool["lastModifier"] = ACTOR
        return self._op(name, pool, self._reconcile(pool, new_revision=new_revision))

    def delete(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        pool = self._pool(name)
        etag = request.query.get("etag")
        if etag and etag != pool["etag"]:
            raise ApiError.aborted(f"The etag of resource '{name.rsplit('/', 1)[1]}' does not match ({etag}).")
        if request.flag("validateOnly"):
            return self._op(name, pool, None)
        del self.pools[name]
        for rev in [r for r, v in self.revisions.items() if v["_pool"] == name]:
            del self.revisions[rev]
        self.iam.drop(name)
        pool["deleteTime"] = self.clock.now()
        return self._op(name, pool, None)

    # -- reconciliation ------------------------------------------------------------------------
    def _reconcile(self, pool: Json, new_revision: bool) -> ApiError | None:
        now = self.clock.now()
        revision_error: str | None = None
        if new_revision:
            revision_error = self._new_revision(pool, now)
        statuses, split_error = self._split(pool)
        if split_error is None:
            pool["instanceSplitStatuses"] = statuses
        pool["observedGeneration"] = pool["generation"]
        pool["reconciling"] = False
        message = revision_error or split_error
        pool["terminalCondition"] = (
            condition("Ready", SUCCEEDED, now)
            if message is None
            else condition("Ready", FAILED, now, message, reason="REVISION_FAILED" if revision_error else "UNKNOWN")
        )
        pool["conditions"] = [
            condition("ConfigurationsReady", SUCCEEDED, now)
            if revision_error is None
            else condition("ConfigurationsReady", FAILED, now, revision_error, reason="REVISION_FAILED")
        ]
        _touch(pool)
        return None if message is None else ApiError.failed_precondition(message)

    def _new_revision(self, pool: Json, now: str) -> str | None:
        name = pool["name"]
        pid = name.rsplit("/", 1)[1]
        number = next(self._seq[name])
        rev_name = f"{name}/revisions/{pid}-{number:05d}-{digest(name, number, length=3)}"
        template = pool["template"]
        message = self.failing.get(name, self.failing.get(pid))
        revision: Json = {
            "name": rev_name,
            "uid": uuid_for("revision", rev_name, now),
            "generation": "1",
            "labels": deep_copy(template.get("labels", {})),
            "createTime": now,
            "updateTime": now,
            "launchStage": pool.get("launchStage", "GA"),
            "_pool": name,
            "observedGeneration": "1",
            "reconciling": False,
        }
        for key in ("containers", "volumes", "serviceAccount", "vpcAccess", "nodeSelector", "encryptionKey"):
            if key in template:
                revision[key] = deep_copy(template[key])
        if message is None:
            revision["conditions"] = [condition("Ready", SUCCEEDED, now), condition("ContainerHealthy", SUCCEEDED, now)]
        else:
            revision["conditions"] = [
                condition("Ready", FAILED, now, message, reason="REVISION_FAILED"),
                condition("ContainerHealthy", FAILED, now, message, revisionReason="HEALTH_CHECK_CONTAINER_ERROR"),
            ]
        revision["etag"] = etag_of({k: v for k, v in revision.items() if k != "_pool"})
        self.revisions[rev_name] = revision
        pool["latestCreatedRevision"] = rev_name
        if message is None:
            pool["latestReadyRevision"] = rev_name
            return None
        return f"Revision '{rev_name.rsplit('/', 1)[1]}' is not ready. {message}"

    def _split(self, pool: Json) -> tuple[list[Json], str | None]:
        statuses: list[Json] = []
        total = 0
        for i, split in enumerate(pool["instanceSplits"]):
            kind = split.get("type") or (REVISION if split.get("revision") else LATEST)
            percent = int(split.get("percent", 0))
            total += percent
            if kind == REVISION:
                rev = self.revisions.get(f"{pool['name']}/revisions/{split.get('revision', '')}")
                if rev is None:
                    return [], f"Revision '{split.get('revision')}' does not exist (instanceSplits[{i}])."
                if rev["conditions"][0]["state"] != SUCCEEDED:
                    return [], f"Revision '{split['revision']}' is not ready."
            elif not pool.get("latestReadyRevision"):
                return [], "No revision is ready to receive instances."
            status: Json = {"type": kind}
            if kind == REVISION:
                status["revision"] = split["revision"]
            if percent:
                status["percent"] = percent
            statuses.append(status)
        if total != 100:
            raise ApiError.invalid_argument(
                f"worker_pool.instance_splits: Total instance split percent must be 100, got {total}.",
                field="worker_pool.instance_splits",
            )
        return statuses, None

    # -- revisions -----------------------------------------------------------------------------
    def list_revisions(self, request: ApiRequest) -> Json:
        parent = request.params["parent"]
        self._pool(parent)
        items = [_public(r) for r in reversed(self.revisions.values()) if r["_pool"] == parent]
        page, nxt = paginate(items, request)
        return page_body("revisions", page, nxt)

    def revision_names(self, pool: str) -> list[str]:
        """Revision ids of a worker pool (full name), oldest first."""
        return [r.rsplit("/", 1)[1] for r, v in self.revisions.items() if v["_pool"] == pool]


def _defaults(spec: Json, name: str) -> Json:
    """The spec as Cloud Run stores it: with its server-side defaults, after the synchronous checks."""
    template = spec.get("template")
    if not isinstance(template, dict):
        raise ApiError.invalid_argument("worker_pool.template: Field is required.", field="worker_pool.template")
    containers = template.get("containers") or []
    if not containers:
        raise ApiError.invalid_argument(
            "worker_pool.template.containers: at least one container is required.",
            field="worker_pool.template.containers",
        )
    for i, c in enumerate(containers):
        if not c.get("image"):
            raise ApiError.invalid_argument(
                f"worker_pool.template.containers[{i}].image: Field is required.",
                field=f"worker_pool.template.containers[{i}].image",
            )
    if (template.get("vpcAccess") or {}).get("connector"):
        raise ApiError.invalid_argument(
            "worker_pool.template.vpc_access.connector: VPC connectors are not supported for worker pools; "
            "use Direct VPC egress (network_interfaces).",
            field="worker_pool.template.vpc_access.connector",
        )
    out: Json = deep_copy(spec)
    t = out["template"]
    t.setdefault("serviceAccount", f"{project_number(split_name(name)[0])}-compute@developer.gserviceaccount.com")
    for c in t["containers"]:
        c.setdefault("resources", {}).setdefault("limits", {"cpu": "1000m", "memory": "512Mi"})
    out.setdefault("launchStage", "GA")
    if not out.get("instanceSplits"):
        out["instanceSplits"] = [{"type": LATEST, "percent": 100}]
    return out


def _spec(body: Json) -> Json:
    return {k: deep_copy(v) for k, v in body.items() if k not in _OUTPUT}


def _public(obj: Json) -> Json:
    return {k: deep_copy(v) for k, v in obj.items() if not k.startswith("_")}


def _canonical(template: Json) -> str:
    return json.dumps(template, sort_keys=True)


def _touch(obj: Json) -> None:
    obj.pop("etag", None)
    obj["etag"] = etag_of(obj)
