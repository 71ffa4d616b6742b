"""The one boundary to Cloud Run Admin API v2 jobs and executions (shipit runs migrations as jobs).

Specs cross it as plain dicts in the REST JSON shape (camelCase, proto3 JSON); what comes back is
shipit's own frozen :class:`JobState` / :class:`ExecutionState`, so no google type leaks out.

Retries: reads are retried on 429/5xx and dropped connections. Creating and updating a job (and
setting its IAM policy) are paced under the region's write quota and retried when the server
answered 429/5xx (it did not apply them); after a dropped connection the job is read back instead.
Running a job is never retried blindly: before every new attempt the job's executions are listed,
and an execution that appeared since the first attempt is adopted, so a lost response never runs a migration twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipit.adapters.gcp.errors import (
    ResponseLost,
    has_status,
    is_retryable,
    translated,
    with_retries,
)
from shipit.adapters.gcp.paced import paced_write
from shipit.adapters.gcp.proto import to_dict
from shipit.errors import NotFound, RemoteError
from shipit.pacing import pace_write

if TYPE_CHECKING:
    from shipit.adapters.gcp.clients import GcpClients

Json = dict[str, Any]
# Creating or updating a job is a quick metadata write; nothing runs yet.
LRO_TIMEOUT = 300.0
RUN_ATTEMPTS = 5


@dataclass(frozen=True)
class JobState:
    """A live job: its spec (labels, template: what shipit writes) and its latest execution."""

    name: str
    etag: str
    spec: Json = field(default_factory=dict)
    latest_execution: str | None = None

    @property
    def job_id(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ExecutionState:
    """One run of a job. ``done`` once it finished; ``messages`` are its conditions' messages."""

    name: str
    done: bool
    succeeded: bool
    labels: Mapping[str, str] = field(default_factory=dict)
    template: Json = field(default_factory=dict)  # the task template it ran (containers, timeout, ...)
    messages: tuple[str, ...] = ()
    log_uri: str | None = None
    create_time: str = ""

    @property
    def execution_id(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @property
    def running(self) -> bool:
        return not self.done


# Fields the API sets; never part of a spec shipit compares or writes.
_JOB_SPEC_KEYS = ("labels", "annotations", "template", "launchStage", "binaryAuthorization", "client")


def _job_pb(body: Json) -> Any:
    from google.cloud import run_v2

    return run_v2.Job.from_json(json.dumps(body), ignore_unknown_fields=False)


def _job_state(job: Json) -> JobState:
    latest = (job.get("latestCreatedExecution") or {}).get("name") or None
    return JobState(
        name=str(job["name"]),
        etag=str(job.get("etag", "")),
        spec={k: job[k] for k in _JOB_SPEC_KEYS if k in job},
        latest_execution=latest,
    )


def _execution_state(execution: Json) -> ExecutionState:
    conditions = execution.get("conditions") or []
    completed: Json = next((c for c in conditions if c.get("type") == "Completed"), {})
    state = completed.get("state", "")
    task_count = int(execution.get("taskCount", 1) or 1)
    failed = int(execution.get("failedCount", 0) or 0) + int(execution.get("cancelledCount", 0) or 0)
    succeeded_tasks = int(execution.get("succeededCount", 0) or 0)
    done = bool(execution.get("completionTime")) or state in ("CONDITION_SUCCEEDED", "CONDITION_FAILED")
    succeeded = done and (
        state == "CONDITION_SUCCEEDED" or (state != "CONDITION_FAILED" and not failed and succeeded_tasks >= task_count)
    )
    # The Completed condition says why it failed; the others add context (image pull, quota...).
    ordered = [completed, *[c for c in conditions if c is not completed]]
    messages = tuple(str(c["message"]) for c in ordered if c.get("message"))
    return ExecutionState(
        name=str(execution["name"]),
        done=done,
        succeeded=succeeded,
        labels=dict(execution.get("labels") or {}),
        template=dict(execution.get("template") or {}),
        messages=messages,
        log_uri=execution.get("logUri") or None,
        create_time=str(execution.get("createTime", "")),
    )


class CloudRunJobs:
    """Typed access to Cloud Run jobs and their executions."""

    def __init__(
        self,
        clients: GcpClients,
        *,
        sleep: Callable[[float], Any] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = clients
        self._sleep = sleep
        self._clock = clock

    @property
    def _jobs(self) -> Any:
        return self._clients.run_jobs

    @property
    def _executions(self) -> Any:
        return self._clients.run_executions

    @staticmethod
    def normalize(spec: Json) -> Json:
        """The spec as the API would echo it (enum names, durations, zero values dropped)."""
        return {k: v for k, v in to_dict(_job_pb(spec)).items() if k in _JOB_SPEC_KEYS}

    # -- reads -----------------------------------------------------------------------------------
    def get_job(self, name: str) -> JobState | None:
        try:
            with translated(api="run", action="read", resource=f"Cloud Run job {name.rsplit('/', 1)[-1]}"):
                return _job_state(to_dict(with_retries(lambda: self._jobs.get_job(name=name))))
        except NotFound:
            return None

    def get_execution(self, name: str) -> ExecutionState | None:
        try:
            with translated(api="run", action="read", resource=f"execution {name.rsplit('/', 1)[-1]}"):
                return _execution_state(to_dict(with_retries(lambda: self._executions.get_execution(name=name))))
        except NotFound:
            return None

    def list_executions(self, job: str) -> list[ExecutionState]:
        """In the API's order: newest first."""
        with translated(api="run", action="list executions of", resource=f"Cloud Run job {job.rsplit('/', 1)[-1]}"):
            items = with_retries(lambda: [to_dict(e) for e in self._executions.list_executions(parent=job)])
        return [_execution_state(e) for e in items]

    def list_jobs(self, parent: str) -> list[Json]:
        """Every job in ``parent`` (projects/P/locations/R) as REST JSON, labels included."""
        with translated(api="run", action="list", resource=f"Cloud Run jobs in {parent}"):
            return with_retries(lambda: [to_dict(j) for j in self._jobs.list_jobs(parent=parent)])

    # -- writes ----------------------------------------------------------------------------------
    def delete_job(self, name: str) -> bool:
        """Delete the job and its executions. False when it was already gone."""
        from shipit.adapters.gcp.deletes import delete_and_wait

        return delete_and_wait(
            lambda: self._jobs.delete_job(name=name), api="run", resource=f"Cloud Run job {name.rsplit('/', 1)[-1]}"
        )

    def create_job(self, parent: str, job_id: str, spec: Json) -> JobState:
        name = f"{parent}/jobs/{job_id}"
        resource = f"Cloud Run job {job_id}"
        pb = _job_pb(spec)
        try:
            with translated(api="run", action="create", resource=resource):
                op = paced_write(name, lambda: self._jobs.create_job(parent=parent, job=pb, job_id=job_id))
        except ResponseLost:
            return self._must_get(name)
        except RemoteError as exc:
            if not has_status(exc.__context__, 409):
                raise
            return self._must_get(name)  # an earlier attempt whose answer was lost created it
        return self._finish(op, name, resource)

    def update_job(self, name: str, spec: Json, etag: str) -> JobState:
        """Replace the job's spec; ``etag`` (read while planning) guards against concurrent changes."""
        resource = f"Cloud Run job {name.rsplit('/', 1)[-1]}"
        pb = _job_pb({**spec, "name": name, "etag": etag})
        try:
            with translated(api="run", action="update", resource=resource):
                op = paced_write(name, lambda: self._jobs.update_job(job=pb))
        except ResponseLost:
            return self._must_get(name)
        return self._finish(op, name, resource)

    def run_job(self, name: str, etag: str | None = None) -> ExecutionState:
        """Start one execution and return it (usually still running: see :meth:`wait`)."""
        resource = f"Cloud Run job {name.rsplit('/', 1)[-1]}"
        before = {e.name for e in self.list_executions(name)}

        def started() -> ExecutionState | None:
            return next((e for e in self.list_executions(name) if e.name not in before), None)

        request: Json = {"name": name, **({"etag": etag} if etag else {})}
        delay = 0.5
        for attempt in range(1, RUN_ATTEMPTS + 1):
            try:
                pace_write(name)
                with translated(api="run", action="run", resource=resource):
                    op = self._jobs.run_job(request=request)
            except RemoteError as exc:
                cause = exc.__context__
                # A 429/5xx answer or a lost response: the run may have started anyway. An etag
                # conflict after such an attempt: the lost attempt did start it (running moves the etag).
                conflict = attempt > 1 and has_status(cause, 409)
                if cause is None or not (is_retryable(cause) or conflict):
                    raise
                execution = started()
                if execution is not None:
                    return execution
                if attempt == RUN_ATTEMPTS or conflict:
                    raise
                self._sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            execution_name = str(getattr(op.metadata, "name", "") or "") if op.metadata is not None else ""
            execution = self.get_execution(execution_name) if execution_name else started()
            if execution is None:
                raise RemoteError(f"ran {resource} but cannot find its execution", hint="see the Cloud Run console")
            return execution
        raise AssertionError("unreachable")

    def wait(self, execution: str, timeout: float, *, interval: float = 2.0) -> ExecutionState:
        """Poll the execution until it finished or ``timeout`` seconds passed (then RemoteError)."""
        deadline = self._clock() + timeout
        delay = min(interval, 1.0)
        while True:
            state = self.get_execution(execution)
            if state is None:
                raise RemoteError(f"execution {execution.rsplit('/', 1)[-1]} disappeared while running")
            if state.done:
                return state
            if self._clock() + delay > deadline:
                raise RemoteError(
                    f"execution {state.execution_id} still running after {int(timeout)}s",
                    hint=f"it keeps running; see its logs{': ' + state.log_uri if state.log_uri else ''}",
                )
            self._sleep(delay)
            delay = min(delay * 2, max(interval, 1.0) * 5)

    def get_iam_policy(self, resource: str) -> Json:
        with translated(api="run", action="read the IAM policy of", resource=resource.rsplit("/", 1)[-1]):
            return to_dict(with_retries(lambda: self._jobs.get_iam_policy(request={"resource": resource})))

    def set_iam_policy(self, resource: str, policy: Json) -> Json:
        """Write the job's policy; ``policy["etag"]`` (from get_iam_policy) guards against concurrent changes."""
        import importlib

        from shipit.adapters.gcp.proto import json_format

        policy_pb2: Any = importlib.import_module("google.iam.v1.policy_pb2")
        pb = json_format().ParseDict(policy, policy_pb2.Policy())
        with translated(api="run", action="set the IAM policy of", resource=resource.rsplit("/", 1)[-1]):
            result = paced_write(
                resource,
                lambda: self._jobs.set_iam_policy(request={"resource": resource, "policy": pb}),
                idempotent=True,
            )
        return to_dict(result)

    def _finish(self, op: Any, name: str, resource: str) -> JobState:
        with translated(api="run", action="wait for", resource=resource):
            result = op.result(timeout=LRO_TIMEOUT)
        return _job_state(to_dict(result))

    def _must_get(self, name: str) -> JobState:
        job = self.get_job(name)
        if job is None:
            raise RemoteError(f"lost the response while writing Cloud Run job {name.rsplit('/', 1)[-1]}", hint="re-run")
        return job
