"""Step "migrate": each database's ``migrate`` command runs as a Cloud Run Job, before traffic moves.

The pipeline runs it after infra (the database exists) and before services (no revision gets traffic
yet), so a failed migration aborts the release with the old code still serving.

The job ``{app}-migrate-{db}`` runs the NEW image of the migrate service (the push result, else
``RunOptions.images``, else the image deployed on that service now) with that service's env,
secrets pinned to the versions of the secrets result, secret files, VPC access, Cloud SQL
instances and service account, resolved and rendered by the same code as the service itself
(run_inputs' resolver, :func:`shipit.render.cloudrun_job.render_job`); ``command`` replaces the
entrypoint, the task timeout is ``migrate.timeout``, failed tasks are not retried.

Idempotence: the job and its executions carry a label with a hash of (image, command, env). When the
latest execution ran this same hash successfully, the plan is a no-op and nothing is written: re-running
a finished deploy changes nothing. Otherwise the plan creates or updates the job (etag-guarded) and
runs it once; apply waits up to ``migrate.timeout`` plus a margin for the execution to finish.

Failure: :class:`MigrationFailed` (exit 1) with the execution's condition messages and its log URL;
the job stays for inspection. Full logs are in Cloud Logging (the URL opens them).

Offline (``RunOptions.offline``): no remote call at all; planned as if the job did not exist.
Result (:class:`shipit.results.MigrateResult`): {db: {"job", "execution", "status", "hash"}}.
Earlier results come through shipit.steps.resolver (this run, else the state file, else the live remote).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from shipit.adapters.gcp.jobs import ExecutionState
from shipit.config.models import Database, Service
from shipit.config.refs import parse_refs
from shipit.errors import RemoteError, ShipitError, UsageError
from shipit.names import DATABASE_LABEL, MIGRATE_HASH_LABEL, job_id, location_parent
from shipit.plan import Action, Change, FieldDiff, FrozenJson, Plan, freeze_json, thaw_json
from shipit.remote import JobsApi, RunApi
from shipit.render.cloudrun import RenderError, SecretRef, ServiceInputs
from shipit.render.cloudrun_job import migration_hash, render_job
from shipit.results import MigrateResult

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.steps.context import StepContext

STEP = "migrate"
Json = dict[str, Any]
# Waited for beyond migrate.timeout: scheduling, image pull and container start are not in the task timeout.
WAIT_MARGIN = 300


class MigrationFailed(ShipitError):
    """A migration execution failed or did not finish; the release stops before any traffic moves."""


@dataclass(frozen=True)
class Migration:
    """Payload of one database's Change: what apply() needs."""

    database: str
    service: str
    job_id: str
    parent: str
    spec: FrozenJson  # desired job spec, as the API echoes it
    hash: str
    timeout: int
    live_etag: str | None  # the live job's etag (None: no job yet), guards the update
    write: str | None  # "create", "update" or None
    run: bool  # start a new execution
    wait_for: str | None  # an execution to wait for first (one still running)
    last_execution: str | None  # id of the latest execution when planning

    @property
    def job_name(self) -> str:
        return f"{self.parent}/jobs/{self.job_id}"

    @property
    def command(self) -> str:
        return " ".join(self.spec["template"]["template"]["containers"][0].get("command", []))


# -- planning ----------------------------------------------------------------------------------------


def migrate_service(target: Target, database: str, db: Database) -> str:
    """Whose image and env run the migration: ``migrate.service``, else the database's only user."""
    assert db.migrate is not None
    if db.migrate.service:
        return db.migrate.service
    users = [name for name, svc in target.config.services.items() if database in svc.databases]
    if len(users) != 1:  # config checks reject this; keep the message in case they are bypassed
        raise UsageError(
            f"databases.{database}.migrate: cannot tell which service's image runs the migration",
            hint="set migrate.service to one of: " + (", ".join(users) or "(no service uses it)"),
        )
    return users[0]


def _url_refs(service: Service) -> dict[str, set[str]]:
    """env var -> services whose URL its value uses."""
    out: dict[str, set[str]] = {}
    for key, value in service.env.items():
        names = {r.name for r in parse_refs(value) if r.kind == "services" and r.attr == "url"}
        if names:
            out[key] = names
    return out


def _service_inputs(
    ctx: StepContext, name: str, live: Json | None, urls: Mapping[str, str], notes: set[str]
) -> tuple[ServiceInputs, list[str]]:
    """The service's inputs exactly as the services step resolves them (same code, same results)."""
    from shipit.steps.services import resolve_inputs

    return resolve_inputs(ctx, name, live, urls, notes)


def _execution_hash(execution: ExecutionState) -> str | None:
    label = execution.labels.get(MIGRATE_HASH_LABEL)
    if label:
        return label
    containers = execution.template.get("containers") or []
    return migration_hash(containers[0]) if containers else None


# Paths whose presence only on the live job means shipit must remove it; elsewhere it is a server default.
_OWNED = ("labels.", "template.labels.", "template.template.containers[0].", "template.template.volumes")


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> dict[str, str]:
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            if key == "env" and isinstance(item, list):
                for entry in item:
                    ref = (entry.get("valueSource") or {}).get("secretKeyRef")
                    shown = (
                        f"secret {str(ref.get('secret')).rsplit('/', 1)[-1]} version {ref.get('version', 'latest')}"
                        if ref
                        else repr(entry.get("value", ""))
                    )
                    out[f"{path}.{entry.get('name')}"] = shown
            else:
                _flatten(item, path, out)
    elif isinstance(value, list) and all(not isinstance(i, (dict, list)) for i in value):
        out[prefix] = " ".join(str(i) for i in value)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", out)
    else:
        out[prefix] = str(value)
    return out


def job_diff(desired: Json, live: Json) -> list[FieldDiff]:
    """What an update would change. Server-side defaults the desired spec does not set are no diff."""
    want, have = _flatten(desired, "", {}), _flatten(live, "", {})
    diffs = []
    for path in sorted(set(want) | set(have)):
        before, after = have.get(path), want.get(path)
        if before == after or (after is None and not path.startswith(_OWNED)):
            continue
        diffs.append(FieldDiff(path.replace("template.template.containers[0].", "container."), before, after))
    return diffs


def _plan_one(
    ctx: StepContext,
    database: str,
    db: Database,
    jobs: JobsApi | None,
    services: RunApi | None,
    notes: set[str],
    *,
    secret_env: Mapping[str, SecretRef] | None = None,
    job: str | None = None,
    extra_labels: Mapping[str, str] | None = None,
) -> Change:
    """``secret_env``, ``job`` and ``extra_labels``: a preview's own migration (its DATABASE_URL, its job)."""
    target = ctx.target
    migrate = db.migrate
    assert migrate is not None
    name = migrate_service(target, database, db)
    service = target.config.services[name]
    parent = location_parent(target.project, target.region)
    live_service = services.get_service(f"{parent}/services/{name}") if services else None
    url_refs = _url_refs(service)
    urls: dict[str, str] = {}
    for other in sorted({s for names in url_refs.values() for s in names}):
        other_live = services.get_service(f"{parent}/services/{other}") if services else None
        if other_live and other_live.get("uri"):
            urls[other] = str(other_live["uri"])
    own_notes: set[str] = set()
    inputs, pending = _service_inputs(ctx, name, live_service, urls, own_notes)
    if secret_env:
        inputs = replace(inputs, secret_env={**inputs.secret_env, **secret_env})
    notes.update(f"migrate {database}: {n}" for n in sorted(own_notes))
    env = dict(inputs.env)
    for key, names in url_refs.items():
        if names & set(pending):
            env.pop(key, None)
            notes.add(f"migrate {database}: {key} left out (URL of {', '.join(sorted(names))} known after it deploys)")
    labels = {**inputs.labels, DATABASE_LABEL: database, **(extra_labels or {})}
    stable = {key: service.env[key] for key in url_refs}
    try:
        spec = render_job(service, replace(inputs, env=env), migrate, labels=labels, stable_env=stable)
    except RenderError as exc:
        raise UsageError(f"services.{name}.{exc}", hint=f"edit {target.config_file}") from None
    digest = spec["labels"][MIGRATE_HASH_LABEL]
    jid = job or job_id(target.app, database)
    desired = jobs.normalize(spec) if jobs else spec
    live = jobs.get_job(f"{parent}/jobs/{jid}") if jobs else None
    last = jobs.get_execution(live.latest_execution) if jobs and live and live.latest_execution else None

    same = last is not None and _execution_hash(last) == digest
    running = last is not None and last.running
    diffs = [] if live is None else job_diff(desired, live.spec)
    write = "create" if live is None else ("update" if diffs else None)
    run = not (same and last is not None and (last.succeeded or last.running))
    payload = Migration(
        database=database,
        service=name,
        job_id=jid,
        parent=parent,
        spec=freeze_json(desired),
        hash=digest,
        timeout=migrate.timeout,
        live_etag=None if live is None else live.etag,
        write=write,
        run=run,
        wait_for=last.name if last is not None and running else None,
        last_execution=None if last is None else last.execution_id,
    )
    resource = f"migration {database} (job {jid})"
    command = " ".join(migrate.command)
    image = spec["template"]["template"]["containers"][0]["image"]
    if live is None:
        summary = f"new job, run `{command}` with the {name} image"
        return Change(STEP, Action.CREATE, resource, summary, (FieldDiff("image", None, image),), payload)
    if write is None and not run and not running:
        return Change(STEP, Action.NOOP, resource, f"already ran ({last.execution_id if last else '?'})", (), payload)
    if run:
        if last is None:
            why = "never ran"
        elif same and not last.succeeded and not last.running:
            why = "last run failed"
        else:
            why = "image, command or env changed"
        summary = ("update job, run" if write else "run") + f" `{command}` ({why})"
        if running and last is not None:
            summary += f", after the running execution {last.execution_id}"
    elif running and last is not None:
        summary = f"wait for the running execution {last.execution_id}" + (", update job" if write else "")
    else:
        summary = "update job (same migration, already ran: not run again)"
    return Change(STEP, Action.UPDATE, resource, summary, tuple(diffs), payload)


def plan(ctx: StepContext) -> Plan:
    """Read each migration job and its latest execution, render the desired job, decide. No writes."""
    target = ctx.target
    wanted = [(n, db) for n, db in target.config.databases.items() if db.migrate is not None]
    if not wanted:
        return Plan.of(STEP, [])
    notes: set[str] = set()
    if ctx.options.offline:
        jobs_api, reader = None, None
        notes.add("offline: planned as if no migration job existed")
    else:
        jobs_api, reader = ctx.remote.jobs, ctx.remote.run
    changes = [_plan_one(ctx, n, db, jobs_api, reader, notes) for n, db in wanted]
    return Plan.of(STEP, changes, sorted(notes))


def plan_preview(
    ctx: StepContext, database: str, job: str, secret_env: Mapping[str, SecretRef], labels: Mapping[str, str]
) -> Change | None:
    """A preview's migration of ``database`` (None: it has no migrate command): the job ``job`` with the
    preview's image and ``secret_env`` (its own DATABASE_URL), planned like the base migration."""
    db = ctx.target.config.databases[database]
    if db.migrate is None:
        return None
    notes: set[str] = set()
    return _plan_one(
        ctx, database, db, ctx.remote.jobs, ctx.remote.run, notes, secret_env=secret_env, job=job, extra_labels=labels
    )


def apply_preview(ctx: StepContext, change: Change) -> dict[str, Any]:
    """Run a migration :func:`plan_preview` planned; MigrationFailed (exit 1) when it fails."""
    m: Migration = change.payload
    if change.is_noop:
        return _result(m, m.last_execution, "unchanged")
    return _apply_one(ctx, ctx.remote.jobs, m)


def _result(m: Migration, execution: str | None, status: str) -> dict[str, Any]:
    return {
        "job": m.job_id,
        "execution": execution,
        "status": status,
        "hash": m.hash,
    }


def predict(ctx: StepContext, plan: Plan) -> dict[str, dict[str, Any]]:
    """What apply() would return: planned migrations as "planned", the rest "unchanged"."""
    out = {}
    for change in plan:
        m: Migration = change.payload
        if change.is_noop:
            out[m.database] = _result(m, m.last_execution, "unchanged")
        else:
            out[m.database] = _result(m, None, "planned")
    return out


# -- applying ----------------------------------------------------------------------------------------


def _failure(m: Migration, execution: ExecutionState) -> MigrationFailed:
    lines = [f"migration of database {m.database} failed (job {m.job_id}, execution {execution.execution_id})"]
    lines.extend(f"  {message}" for message in execution.messages or ("(no message from Cloud Run)",))
    if execution.log_uri:
        lines.append(f"  logs: {execution.log_uri}")
    lines.append("  no traffic was moved; the job is left for inspection")
    return MigrationFailed(
        "\n".join(lines),
        hint="full logs are in Cloud Logging (link above); fix the migration and re-run `shipit deploy`",
    )


def _wait(api: JobsApi, m: Migration, execution: ExecutionState) -> ExecutionState:
    if execution.done:
        return execution
    try:
        return api.wait(execution.name, float(m.timeout + WAIT_MARGIN))
    except RemoteError as exc:
        raise MigrationFailed(
            f"migration of database {m.database} did not finish: {exc.message}; no traffic was moved",
            hint=exc.hint,
        ) from None


def _apply_one(ctx: StepContext, api: JobsApi, m: Migration) -> dict[str, Any]:
    console = ctx.console
    etag = m.live_etag
    if m.write == "create":
        console.info(f"migrate {m.database}: creating job {m.job_id}")
        etag = api.create_job(m.parent, m.job_id, thaw_json(m.spec)).etag
    elif m.write == "update" and m.live_etag is not None:
        console.info(f"migrate {m.database}: updating job {m.job_id}")
        etag = api.update_job(m.job_name, thaw_json(m.spec), m.live_etag).etag
    waited = None
    if m.wait_for is not None:
        console.info(f"migrate {m.database}: waiting for the running execution {m.wait_for.rsplit('/', 1)[-1]}")
        previous = api.get_execution(m.wait_for)
        if previous is not None:
            waited = _wait(api, m, previous)
    if not m.run:
        if waited is not None and not waited.succeeded:
            raise _failure(m, waited)
        return _result(m, waited.execution_id if waited is not None else m.last_execution, "succeeded")
    # The etag guards the run against a concurrent change of the job, unless an execution ran meanwhile.
    execution = api.run_job(m.job_name, etag if m.wait_for is None else None)
    console.info(f"migrate {m.database}: running `{m.command}` (execution {execution.execution_id})")
    finished = _wait(api, m, execution)
    if not finished.succeeded:
        raise _failure(m, finished)
    console.success(f"migrate {m.database}: execution {finished.execution_id} succeeded")
    return _result(m, finished.execution_id, "succeeded")


def apply(ctx: StepContext, plan: Plan) -> MigrateResult:
    """Run the planned migrations in order; the first failure raises :class:`MigrationFailed` (exit 1)."""
    results: dict[str, dict[str, Any]] = {}
    for change in plan:
        m: Migration = change.payload
        if change.is_noop:
            results[m.database] = _result(m, m.last_execution, "unchanged")
            continue
        ctx.console.event("migration_started", database=m.database, job=m.job_id)
        results[m.database] = _apply_one(ctx, ctx.remote.jobs, m)
        ctx.console.event("migration_finished", **{"database": m.database, **results[m.database]})
    return MigrateResult(results)
