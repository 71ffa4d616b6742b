"""Step "jobs": every ``jobs:`` entry as a Cloud Run job, created or updated (never run) by the deploy.

plan() resolves each job's inputs the way a service's are resolved (:mod:`shipit.steps.services.inputs`:
the image its ``service`` builds in this release, else the deployed one; secrets pinned to the synced
versions; Terraform outputs) and diffs the desired job against the live one: an unchanged job makes no
write. apply() writes with the etag read while planning. Running a job is `shipit jobs run`; a
``schedule`` is a Cloud Scheduler job in the generated Terraform, which calls the job's ``:run``.

Output: apply() returns {job: {"action", "job", "ok"}}.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from shipit.errors import RemoteError, ShipitError, UsageError
from shipit.plan import Action, Change, FieldDiff, FrozenJson, Plan, freeze_json, thaw_json
from shipit.remote import JobsApi
from shipit.render.cloudrun import RenderError
from shipit.render.job import job_as_service, render_app_job
from shipit.results import JobsResult
from shipit.steps.migrate import job_diff
from shipit.steps.services import DeployOptions, Resolver, location_parent

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.steps.context import StepContext

STEP = "jobs"
Json = dict[str, Any]
INVOKER = "roles/run.invoker"


# The jobs API of the remote boundary includes the job IAM policy this step needs.
JobsIamApi = JobsApi


class JobFailed(ShipitError):
    """A job could not be deployed, or an execution failed."""


@dataclass(frozen=True)
class JobPlan:
    """Payload of one job's Change (data only; apply() gets the client from the context)."""

    name: str
    full_name: str
    live_spec: FrozenJson | None  # None: the job does not exist yet
    live_etag: str
    desired: FrozenJson
    invoker: str | None = None  # the scheduler account's member to grant roles/run.invoker on this job


def job_name(target: Target, name: str) -> str:
    return f"{location_parent(target)}/jobs/{name}"


def jobs_api_for(ctx: StepContext) -> JobsIamApi:
    return ctx.remote.jobs


def _image_of(spec: Json | None) -> str | None:
    containers = (((spec or {}).get("template") or {}).get("template") or {}).get("containers") or []
    return str(containers[0].get("image")) if containers and containers[0].get("image") else None


def _source_image(ctx: StepContext, service: str) -> str | None:
    """The image the job's service runs now: its service or worker pool as deployed."""
    if ctx.options.offline:
        return None
    parent = location_parent(ctx.target)
    if ctx.target.config.services[service].kind == "worker":
        live = ctx.remote.worker_pools.get_worker_pool(f"{parent}/workerPools/{service}")
    else:
        live = ctx.remote.run.get_service(f"{parent}/services/{service}")
    containers = ((live or {}).get("template") or {}).get("containers") or []
    return str(containers[0]["image"]) if containers and containers[0].get("image") else None


def _has_invoker(policy: Json, member: str) -> bool:
    return any(
        b.get("role") == INVOKER and member in (b.get("members") or []) and not b.get("condition")
        for b in policy.get("bindings") or []
    )


def _scheduler_member(ctx: StepContext, name: str, resolver: Resolver) -> str | None:
    """The account Cloud Scheduler runs the job as (Terraform output scheduler_service_accounts)."""
    job = ctx.target.config.jobs[name]
    if not job.schedule:
        return None
    email = (resolver.infra.get("scheduler_service_accounts") or {}).get(name)
    if not email:
        resolver.notes.add(
            f"{name}: no scheduler account known (infra output scheduler_service_accounts); "
            "run `shipit infra generate` and apply it for the schedule to run the job"
        )
        return None
    return f"serviceAccount:{email}"


def _plan_one(ctx: StepContext, resolver: Resolver, api: JobsIamApi, name: str) -> Change:
    target = ctx.target
    job = target.config.jobs[name]
    live = None if ctx.options.offline else api.get_job(job_name(target, name))
    key = job.service or name
    # A prebuilt service image (services.X.image) is the job's image as it is the service's.
    prebuilt = target.config.services[job.service].image if job.service in target.config.services else None
    image = job.image or resolver.images.get(key) or prebuilt or _image_of(live.spec if live else None)
    if image is None and job.service:
        image = _source_image(ctx, job.service)
    if image is None:
        raise UsageError(
            f"jobs.{name}: no image known (service {job.service} is not built in this run nor deployed)",
            # Named as whole commands: `plan` reaches this too, and has no --image.
            hint=f"`shipit deploy` builds and deploys {job.service} first, or give its image: "
            f"`shipit deploy --image {job.service}=IMAGE`",
        )
    resolver.images[key] = image
    # The live job's task template has a service template's shape: pinned secret versions are read from it.
    live_template = {"template": ((live.spec if live else {}).get("template") or {}).get("template") or {}}
    inputs, _ = resolver.inputs(key, job_as_service(job), live_template if live else None)
    if job.service is None:
        inputs = replace(inputs, service_account=None)
    try:
        desired = api.normalize(render_app_job(job, inputs))
    except RenderError as exc:
        raise UsageError(f"jobs.{name}.{exc}", hint=f"edit {target.config_file}") from None
    member = _scheduler_member(ctx, name, resolver)
    if member is not None and live is not None and _has_invoker(api.get_iam_policy(job_name(target, name)), member):
        member = None  # already granted: nothing to write
    payload = JobPlan(
        name,
        job_name(target, name),
        None if live is None else freeze_json(live.spec),
        "" if live is None else live.etag,
        freeze_json(desired),
        member,
    )
    where = f", scheduled '{job.schedule}' {job.time_zone}" if job.schedule else ""
    if live is None:
        return Change(STEP, Action.CREATE, f"job {name}", f"new Cloud Run job{where}", (), payload)
    diffs = job_diff(desired, live.spec)
    if member is not None:
        diffs.append(FieldDiff(f"iam.{member.split(':', 1)[1]}", "(none)", INVOKER))
    if not diffs:
        return Change(STEP, Action.NOOP, f"job {name}", "", (), payload)
    return Change(STEP, Action.UPDATE, f"job {name}", "job definition", tuple(diffs), payload)


def plan(ctx: StepContext) -> Plan:
    """Read every job, render the desired ones, diff. No writes."""
    names = list(ctx.target.config.jobs)
    if not names:
        return Plan.of(STEP, ())
    jobs = jobs_api_for(ctx)
    notes: set[str] = set()
    resolver = Resolver(ctx, DeployOptions(), {}, notes)
    changes = [_plan_one(ctx, resolver, jobs, n) for n in names]
    return Plan.of(STEP, changes, sorted(notes))


def _grant(api: JobsIamApi, p: JobPlan) -> None:
    """Read-modify-write of the job's policy, guarded by its etag; adds only the scheduler's member."""
    assert p.invoker is not None
    policy = api.get_iam_policy(p.full_name)
    if _has_invoker(policy, p.invoker):
        return
    bindings = [dict(b) for b in policy.get("bindings") or []]
    for binding in bindings:
        if binding.get("role") == INVOKER and not binding.get("condition"):
            binding["members"] = sorted({*binding.get("members", []), p.invoker})
            break
    else:
        bindings.append({"role": INVOKER, "members": [p.invoker]})
    api.set_iam_policy(p.full_name, {**policy, "bindings": bindings})


def apply(ctx: StepContext, plan: Plan) -> JobsResult:
    results: dict[str, dict[str, Any]] = {}
    api = jobs_api_for(ctx)
    for change in plan.changes:
        if not isinstance(change.payload, JobPlan):
            continue
        p: JobPlan = change.payload
        result: dict[str, Any] = {"name": p.name, "job": p.full_name, "action": change.action.value, "ok": True}
        try:
            desired = thaw_json(p.desired)
            if change.action is Action.CREATE:
                api.create_job(location_parent(ctx.target), p.name, desired)
            elif (
                change.action is Action.UPDATE and p.live_spec is not None and job_diff(desired, thaw_json(p.live_spec))
            ):
                api.update_job(p.full_name, desired, p.live_etag)
            if p.invoker is not None:
                _grant(api, p)
                ctx.console.info(f"job {p.name}: {p.invoker.split(':', 1)[1]} may run it (the schedule)")
        except (RemoteError, UsageError) as exc:
            result.update(ok=False, message=exc.render())
        results[p.name] = result
        ctx.console.event("job", **result)
        if not result["ok"]:
            ctx.console.error(f"job {p.name}: {result['message']}")
        elif not change.is_noop:
            ctx.console.success(f"job {p.name}: {change.action.value}d")
    failed = sorted(n for n, r in results.items() if not r["ok"])
    if failed:
        raise JobFailed(f"jobs failed to deploy: {', '.join(failed)}")
    return JobsResult(results)


# -- on demand: `shipit jobs list` and `shipit jobs run` ----------------------------------------------


def _known(target: Target, name: str) -> None:
    known = list(target.config.jobs)
    if name not in known:
        from shipit.config.checks import did_you_mean

        raise UsageError(
            f"job '{name}' is not defined in {target.config_file}",
            hint=did_you_mean(name, known) or (f"defined: {', '.join(known)}" if known else "add it under jobs:"),
        )


def list_jobs(ctx: StepContext) -> list[dict[str, Any]]:
    """Each configured job: its schedule and, when deployed, its latest execution (read-only)."""
    jobs = jobs_api_for(ctx)
    rows = []
    for name, job in ctx.target.config.jobs.items():
        live = jobs.get_job(job_name(ctx.target, name))
        row: dict[str, Any] = {
            "name": name,
            "deployed": live is not None,
            "schedule": f"{job.schedule} ({job.time_zone})" if job.schedule else None,
            "tasks": job.tasks,
        }
        if live is not None and live.latest_execution:
            execution = jobs.get_execution(live.latest_execution)
            if execution is not None:
                row["last_execution"] = execution.execution_id
                row["last_status"] = (
                    "running" if not execution.done else ("succeeded" if execution.succeeded else "failed")
                )
        rows.append(row)
    return rows


def check_known(target: Target, name: str) -> None:
    """NAME is a job of shipit.yaml (a usage error naming the known ones otherwise)."""
    _known(target, name)


def deployed_image(ctx: StepContext, name: str) -> str:
    """The image the deployed job runs; a usage error when the job is not deployed."""
    live = jobs_api_for(ctx).get_job(job_name(ctx.target, name))
    if live is None:
        raise UsageError(f"job '{name}' is not deployed", hint="run `shipit deploy` first")
    return _image_of(live.spec) or "(no image)"


def run(ctx: StepContext, name: str, *, wait: bool) -> dict[str, Any]:
    """Start an execution of a deployed job; with ``wait``, until it finishes. Raises JobFailed (exit 1)."""
    from shipit.steps.migrate import WAIT_MARGIN

    _known(ctx.target, name)
    jobs = jobs_api_for(ctx)
    full = job_name(ctx.target, name)
    live = jobs.get_job(full)
    if live is None:
        raise UsageError(f"job '{name}' is not deployed", hint="run `shipit deploy` first")
    execution = jobs.run_job(full)
    ctx.console.info(f"{name}: started execution {execution.execution_id}")
    if wait and not execution.done:
        timeout = ctx.target.config.jobs[name].timeout * max(1, ctx.target.config.jobs[name].max_retries + 1)
        execution = jobs.wait(execution.name, float(timeout + WAIT_MARGIN))
    result: dict[str, Any] = {
        "name": name,
        "execution": execution.execution_id,
        "status": "running" if not execution.done else ("succeeded" if execution.succeeded else "failed"),
    }
    if execution.log_uri:
        result["logs"] = execution.log_uri
    if execution.done and not execution.succeeded:
        result["message"] = "; ".join(execution.messages) or "the execution failed"
    ctx.console.event("job_execution", **result)
    if result["status"] == "failed":
        raise JobFailed(f"job {name}: execution {execution.execution_id} failed: {result['message']}")
    return result
