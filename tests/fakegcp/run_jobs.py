"""Cloud Run Admin API v2 jobs and their executions (used by shipit for migrations)."""

from __future__ import annotations

import itertools

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
from fakegcp.run_shapes import FAILED, OUTPUT_ONLY, SUCCEEDED, check_resource_id, condition, not_found, split_name

JOB_TYPE = "google.cloud.run.v2.Job"
EXECUTION_TYPE = "google.cloud.run.v2.Execution"
_JOB_OUTPUT = OUTPUT_ONLY | {
    "executionCount",
    "latestCreatedExecution",
    "reconciling",
    "etag",
    "satisfiesPzs",
}


class Jobs:
    """Jobs and executions. An execution completes at once: succeeded, or failed when told to."""

    def __init__(self, clock: Clock, operations: Operations, iam: IamPolicies) -> None:
        self.clock = clock
        self.operations = operations
        self.iam = iam
        self.jobs: dict[str, Json] = {}
        self.executions: dict[str, Json] = {}
        self.failing: dict[str, str] = {}
        self._seq = itertools.count(1)

    def fail_executions(self, job: str, message: str) -> None:
        """Executions of `job` (full name or id) fail; `message` is what the task logged."""
        self.failing[job] = message

    def handlers(self) -> dict[str, Handler]:
        p = "run.projects.locations.jobs."
        return {
            p + "create": self.create,
            p + "get": lambda r: deep_copy(self._job(r.params["name"])),
            p + "list": self.list,
            p + "patch": self.patch,
            p + "delete": self.delete,
            p + "run": self.run,
            p + "getIamPolicy": lambda r: self.iam.get(self._job(r.params["resource"])["name"]),
            p + "setIamPolicy": lambda r: self.iam.set(self._job(r.params["resource"])["name"], r.body),
            p + "executions.get": lambda r: deep_copy(self._execution(r.params["name"])),
            p + "executions.list": self.list_executions,
            p + "executions.delete": self.delete_execution,
        }

    def _job(self, name: str) -> Json:
        job = self.jobs.get(name)
        if job is None:
            raise not_found("JOB", name)
        return job

    def _execution(self, name: str) -> Json:
        execution = self.executions.get(name)
        if execution is None:
            raise not_found("EXECUTION", name)
        return execution

    def _op(self, name: str, type_name: str, obj: Json, error: ApiError | None = None) -> Json:
        view = any_of(type_name, obj)
        return self.operations.start(name.split("/jobs/")[0], view, view, error)

    def create(self, request: ApiRequest) -> Json:
        jid = request.query.get("jobId", "")
        check_resource_id(jid, "job")
        name = f"{request.params['parent']}/jobs/{jid}"
        split_name(name)
        if name in self.jobs:
            raise ApiError.already_exists(f"Resource '{jid}' already exists.")
        spec = {k: deep_copy(v) for k, v in request.body.items() if k not in _JOB_OUTPUT}
        _check_job_template(spec)
        now = self.clock.now()
        job: Json = {
            "name": name,
            "uid": uuid_for("job", name, now),
            "generation": "1",
            "createTime": now,
            "updateTime": now,
            "creator": "fakegcp@example.com",
            "lastModifier": "fakegcp@example.com",
            "launchStage": "GA",
            **spec,
            "observedGeneration": "1",
            "executionCount": 0,
            "reconciling": False,
            "terminalCondition": condition("Ready", SUCCEEDED, now),
            "conditions": [],
        }
        job["template"].setdefault("taskCount", 1)
        job["template"].setdefault("parallelism", 0)
        _touch(job)
        if request.flag("validateOnly"):
            return self._op(name, JOB_TYPE, job)
        self.jobs[name] = job
        return self._op(name, JOB_TYPE, job)

    def list(self, request: ApiRequest) -> Json:
        parent = request.params["parent"] + "/jobs/"
        items = [deep_copy(j) for n, j in sorted(self.jobs.items()) if n.startswith(parent)]
        page, nxt = paginate(items, request)
        return page_body("jobs", page, nxt)

    def patch(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        if name not in self.jobs:
            raise not_found("JOB", name)
        job = self.jobs[name]
        etag = request.body.get("etag")
        if etag and etag != job["etag"]:
            raise ApiError.aborted(f"The etag of resource '{name.rsplit('/', 1)[1]}' does not match ({etag}).")
        current = {k: v for k, v in job.items() if k not in _JOB_OUTPUT}
        spec = {k: deep_copy(v) for k, v in request.body.items() if k not in _JOB_OUTPUT}
        mask = parse_mask(request.query.get("updateMask", ""))
        if mask:
            merged = deep_copy(current)
            apply_mask(merged, spec, mask)
            spec = merged
        _check_job_template(spec)
        spec["template"].setdefault("taskCount", 1)
        spec["template"].setdefault("parallelism", 0)
        spec.setdefault("launchStage", "GA")
        if spec != current and not request.flag("validateOnly"):
            for key in current:
                job.pop(key, None)
            job.update(spec)
            job["generation"] = job["observedGeneration"] = str(int(job["generation"]) + 1)
            job["updateTime"] = self.clock.now()
            _touch(job)
        return self._op(name, JOB_TYPE, job)

    def delete(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        job = self._job(name)
        etag = request.query.get("etag")
        if etag and etag != job["etag"]:
            raise ApiError.aborted(f"The etag of resource '{name.rsplit('/', 1)[1]}' does not match ({etag}).")
        if not request.flag("validateOnly"):
            del self.jobs[name]
            for ex in [e for e in self.executions if e.startswith(name + "/executions/")]:
                del self.executions[ex]
            self.iam.drop(name)
        return self._op(name, JOB_TYPE, job)

    def run(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        job = self._job(name)
        etag = request.body.get("etag")
        if etag and etag != job["etag"]:
            raise ApiError.aborted(f"The etag of resource '{name.rsplit('/', 1)[1]}' does not match ({etag}).")
        _, _, jid = split_name(name)
        now = self.clock.now()
        eid = f"{jid}-{digest(name, next(self._seq), length=5)}"
        ex_name = f"{name}/executions/{eid}"
        template = deep_copy(job["template"])
        task = template.get("template", {})
        overrides = request.body.get("overrides", {})
        _apply_overrides(template, task, overrides)
        message = self.failing.get(name, self.failing.get(jid))
        task_count = int(template.get("taskCount", 1))
        execution: Json = {
            "name": ex_name,
            "uid": uuid_for("execution", ex_name),
            "generation": "1",
            "createTime": now,
            "startTime": now,
            "completionTime": now,
            "updateTime": now,
            "launchStage": job.get("launchStage", "GA"),
            "job": jid,
            "parallelism": int(template.get("parallelism", 0)),
            "taskCount": task_count,
            "template": task,
            "reconciling": False,
            "observedGeneration": "1",
            "labels": deep_copy(job.get("labels", {})),
            "logUri": f"https://console.cloud.google.com/logs/viewer?resource=cloud_run_job/job_name/{jid}",
        }
        error: ApiError | None = None
        if message is None:
            execution["succeededCount"] = task_count
            execution["conditions"] = [
                condition("Completed", SUCCEEDED, now),
                condition("ResourcesAvailable", SUCCEEDED, now),
                condition("Started", SUCCEEDED, now),
            ]
        else:
            execution["failedCount"] = task_count
            text = f"Task {eid}-task0 failed: {message}"
            execution["conditions"] = [
                condition("Completed", FAILED, now, text, executionReason="NON_ZERO_EXIT_CODE"),
                condition("ResourcesAvailable", SUCCEEDED, now),
                condition("Started", SUCCEEDED, now),
            ]
            error = ApiError.failed_precondition(
                f"Execution {eid} has failed to complete, {task_count}/{task_count} tasks failed. {text}"
            )
        _touch(execution)
        self.executions[ex_name] = execution
        job["executionCount"] = int(job.get("executionCount", 0)) + 1
        job["latestCreatedExecution"] = {
            "name": ex_name,
            "createTime": now,
            "completionTime": now,
            "completionStatus": "EXECUTION_SUCCEEDED" if error is None else "EXECUTION_FAILED",
        }
        _touch(job)
        return self._op(name, EXECUTION_TYPE, execution, error)

    def list_executions(self, request: ApiRequest) -> Json:
        parent = request.params["parent"]
        self._job(parent)
        items = [deep_copy(e) for n, e in reversed(self.executions.items()) if n.startswith(parent + "/executions/")]
        page, nxt = paginate(items, request)
        return page_body("executions", page, nxt)

    def delete_execution(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        execution = self._execution(name)
        if not request.flag("validateOnly"):
            del self.executions[name]
        view = any_of(EXECUTION_TYPE, execution)
        return self.operations.start(name.split("/jobs/")[0], view, view)


def _check_job_template(spec: Json) -> None:
    containers = spec.get("template", {}).get("template", {}).get("containers") or []
    if not containers or any(not c.get("image") for c in containers):
        raise ApiError.invalid_argument(
            "job.template.template.containers: at least one container with an image is required.",
            field="job.template.template.containers",
        )


def _apply_overrides(template: Json, task: Json, overrides: Json) -> None:
    if "taskCount" in overrides:
        template["taskCount"] = overrides["taskCount"]
    if "timeout" in overrides:
        task["timeout"] = overrides["timeout"]
    for override in overrides.get("containerOverrides", []):
        containers = task.get("containers", [])
        target = next((c for c in containers if c.get("name") == override.get("name")), None)
        if target is None:
            target = containers[0] if not override.get("name") and containers else None
        if target is None:
            raise ApiError.invalid_argument(f"container override for unknown container '{override.get('name')}'")
        if override.get("clearArgs"):
            target["args"] = []
        if override.get("args"):
            target["args"] = list(override["args"])
        if override.get("env"):
            env = {e["name"]: e for e in target.get("env", [])}
            env.update({e["name"]: e for e in override["env"]})
            target["env"] = list(env.values())


def _touch(obj: Json) -> None:
    obj.pop("etag", None)
    obj["etag"] = etag_of(obj)
