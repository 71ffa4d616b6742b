"""``preview.database: branch``: a database per preview on the environment's own Cloud SQL instance.

For each database of shipit.yaml the preview gets:

- the database ``DB_PREVIEW`` (dashes as underscores) on the instance Terraform made (its name is the last
  part of the infra output ``databases.DB.connection_name``), created with the Cloud SQL Admin API; an
  existing one (a re-deploy) is kept as it is;
- the secret ``{app}-{env}-preview-{PREVIEW}-{ENV_VAR}`` (labelled with the preview), whose value is the base
  DATABASE_URL secret's latest value with the database name replaced. The base value is read through the
  Secret Manager API only (never argv, a file or the output: the redactor masks it and the derived one);
  the members that may read the base secret may read this one;
- its migration, as the Cloud Run job ``{app}-migrate-{DB}-{PREVIEW}``: the base migration job rendered
  with the preview's image and this secret as DATABASE_URL. A job of its own rather than an execution of
  the base job with an env override: an override replaces values only (a secret reference can only come
  from the job's template), and a job of its own keeps the preview's execution history apart from the base's.

Every service using the database pins the preview secret's version, so its revision is in the preview.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from shipit.errors import ShipitError, UsageError
from shipit.names import PREVIEW_LABEL, owner_labels
from shipit.names import secret_id as make_secret_id
from shipit.plan import Action, Change, FieldDiff
from shipit.render.cloudrun import SecretRef

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.steps.context import StepContext

STEP = "preview"
# PostgreSQL's identifier limit (NAMEDATALEN - 1); MySQL allows 64.
MAX_DATABASE_NAME = 63


@dataclass(frozen=True)
class BranchDatabase:
    """One database of one preview, as planned. Holds no secret value (apply reads it again)."""

    database: str  # the shipit.yaml key
    env_var: str
    instance: str
    name: str  # the preview's database on the instance
    base_secret: str
    secret: str  # the preview's DATABASE_URL secret
    version: int  # the version of ``secret`` the revisions pin
    exists: bool  # the database exists already
    secret_exists: bool
    add_version: bool  # the secret lacks a version with the right value
    highest: int  # the secret's highest version when planning (0: none)
    grant: tuple[str, ...] = ()  # readers of the base secret that cannot read this one yet

    @property
    def ref(self) -> SecretRef:
        return SecretRef(self.secret, str(self.version))


def database_name(base: str, preview: str) -> str:
    """``BASE_PREVIEW``, dashes as underscores; UsageError (exit 2) when over the identifier limit."""
    name = f"{base}_{preview}".replace("-", "_")
    if len(name) > MAX_DATABASE_NAME:
        raise UsageError(
            f"--preview {preview!r}: its database {name} would be {len(name)} characters, over {MAX_DATABASE_NAME}",
            hint="use a shorter preview name, e.g. pr-123",
        )
    return name


def database_names(target: Target, preview: str) -> dict[str, str]:
    """shipit.yaml database key -> the preview's database name (no call: from the config only)."""
    return {key: database_name(db.name or key, preview) for key, db in target.config.databases.items()}


def secret_id(target: Target, preview: str, env_var: str) -> str:
    return make_secret_id(target.config.secrets.naming, target.app, target.env_name, f"preview-{preview}-{env_var}")


def job_ids(target: Target, preview: str) -> dict[str, str]:
    """shipit.yaml database key -> the preview's migration job id (databases with a migrate command)."""
    from shipit.names import job_id

    return {key: job_id(target.app, f"{key}-{preview}") for key, db in target.config.databases.items() if db.migrate}


def with_database(url: str, name: str) -> str:
    """``url`` with its path (the database) replaced by ``name``; raises without showing the URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or not (parts.netloc or parts.query):
        raise ShipitError(
            "the base DATABASE_URL is not a URL (scheme://user:password@host/database)",
            hint="the preview's database URL is the base one with another database name",
        )
    return urlunsplit(parts._replace(path="/" + name))


def _infra(ctx: StepContext) -> dict[str, Any]:
    from shipit.results import InfraResult
    from shipit.steps.infra_outputs import deploy_inputs
    from shipit.steps.resolver import earlier

    infra = earlier(ctx, InfraResult)
    return deploy_inputs(infra.outputs if infra is not None else {})


def _base_value(ctx: StepContext, secret: str) -> str:
    from shipit.output import REDACTOR

    current = ctx.remote.secrets.current(secret)
    if current is None or current.data is None:
        raise ShipitError(
            f"preview databases: secret {secret} (the base DATABASE_URL) has no enabled version",
            hint="deploy the environment first: `shipit deploy`",
        )
    value = current.data.decode("utf-8", "replace")
    REDACTOR.register(value)
    return value


def _desired(ctx: StepContext, base_secret: str, name: str) -> str:
    from shipit.output import REDACTOR

    value = with_database(_base_value(ctx, base_secret), name)
    REDACTOR.register(value)
    return value


def plan_branch(ctx: StepContext, preview: str) -> list[BranchDatabase]:
    """Read what exists for the preview's databases (no writes). Exit 1 when the instance is unknown."""
    target = ctx.target
    infra = _infra(ctx)
    connections = infra.get("database_connection_names") or {}
    url_secrets = infra.get("database_url_secrets") or {}
    names = database_names(target, preview)
    out = []
    for key, db in target.config.databases.items():
        connection = str(connections.get(key) or "")
        if not connection:
            raise ShipitError(
                f"preview.database is branch, but the Cloud SQL instance of database {key} is not known",
                hint="`shipit infra apply` (its output databases.connection_name names the instance)",
            )
        instance = connection.rsplit(":", 1)[-1]
        base_secret = str(url_secrets.get(key) or target.secret_id(db.env_var))
        secret = secret_id(target, preview, db.env_var)
        desired = _desired(ctx, base_secret, names[key]).encode()
        exists = ctx.remote.sql.get_database(target.project, instance, names[key]) is not None
        meta = ctx.remote.secrets.get_secret(secret)
        if meta is not None and not meta.managed:
            from shipit.adapters.gcp.secrets import UnmanagedSecretError

            raise UnmanagedSecretError(secret)
        current = ctx.remote.secrets.current(secret) if meta is not None else None
        highest = current.highest if current is not None else 0
        same = current is not None and current.data == desired and current.version is not None
        version = current.version if same and current is not None and current.version else highest + 1
        readers = ctx.remote.secrets.accessors(base_secret)
        grant = sorted(set(readers) - set(ctx.remote.secrets.accessors(secret))) if meta is not None else readers
        out.append(
            BranchDatabase(
                database=key,
                env_var=db.env_var,
                instance=instance,
                name=names[key],
                base_secret=base_secret,
                secret=secret,
                version=version,
                exists=exists,
                secret_exists=meta is not None,
                add_version=not same,
                highest=highest,
                grant=tuple(grant),
            )
        )
    return out


def changes(branches: list[BranchDatabase]) -> list[Change]:
    out = []
    for b in branches:
        if not b.exists:
            out.append(Change(STEP, Action.CREATE, f"database {b.name}", f"on Cloud SQL instance {b.instance}", (), b))
        if b.add_version:
            action = Action.UPDATE if b.secret_exists else Action.CREATE
            summary = f"{b.env_var} of the preview: database {b.name} (version {b.version})"
            diff = (FieldDiff("version", str(b.highest) if b.highest else None, str(b.version)),)
            out.append(Change(STEP, action, f"secret {b.secret}", summary, diff, b))
        if b.grant and not b.add_version:
            summary = f"let {', '.join(b.grant)} read it, as they read {b.base_secret}"
            out.append(Change(STEP, Action.UPDATE, f"secret {b.secret}", summary, (), b))
    return out


def apply_branch(ctx: StepContext, preview: str, branches: list[BranchDatabase]) -> None:
    """Create each database (kept when it exists), write the secret and let the base's readers read it."""
    target = ctx.target
    secrets = ctx.remote.secrets
    for b in branches:
        if not b.exists and ctx.remote.sql.insert_database(target.project, b.instance, b.name):
            ctx.console.success(f"database {b.name}: created on {b.instance}")
        if not b.add_version:
            secrets.grant_access(b.secret, list(b.grant))
            continue
        if not b.secret_exists:
            from shipit.adapters.gcp.secrets import Replication

            labels = {**owner_labels(target.app, target.env_name), PREVIEW_LABEL: preview}
            locations = tuple(target.config.secrets.replication.locations)
            secrets.create_secret(b.secret, labels, Replication(locations))
        version = secrets.add_version(b.secret, _desired(ctx, b.base_secret, b.name).encode(), after=b.highest)
        if version != b.version:
            raise ShipitError(
                f"secret {b.secret}: wrote version {version}, planned {b.version} (another deploy of this preview "
                "ran at the same time)",
                hint="re-run the deploy",
            )
        secrets.grant_access(b.secret, list(b.grant))
        ctx.console.success(f"secret {b.secret}: version {version} (database {b.name})")


def branch_mode(target: Target) -> bool:
    return target.environment.preview.database == "branch"


@dataclass(frozen=True)
class _Drop:
    kind: str  # "job", "database" or "secret"
    name: str  # full job name, database name or secret id
    instance: str = ""


def plan_branch_removal(ctx: StepContext, preview: str) -> list[Change]:
    """The preview's migration jobs, databases and secrets that exist (read, not written)."""
    from shipit.names import location_parent

    target = ctx.target
    connections = _infra(ctx).get("database_connection_names") or {}
    parent = location_parent(target.project, target.region)
    out = []
    for jid in job_ids(target, preview).values():
        if ctx.remote.jobs.get_job(f"{parent}/jobs/{jid}") is not None:
            drop = _Drop("job", f"{parent}/jobs/{jid}")
            out.append(Change(STEP, Action.DELETE, f"job {jid}", f"preview {preview}'s migration job", (), drop))
    for key, name in database_names(target, preview).items():
        instance = str(connections.get(key) or "").rsplit(":", 1)[-1]
        if instance and ctx.remote.sql.get_database(target.project, instance, name) is not None:
            drop = _Drop("database", name, instance)
            out.append(Change(STEP, Action.DELETE, f"database {name}", f"drop it from {instance}", (), drop))
        secret = secret_id(target, preview, target.config.databases[key].env_var)
        meta = ctx.remote.secrets.get_secret(secret)
        if meta is not None and meta.managed:  # never someone else's secret of the same name
            drop = _Drop("secret", secret)
            out.append(Change(STEP, Action.DELETE, f"secret {secret}", f"preview {preview}'s database URL", (), drop))
    return out


def apply_branch_removal(ctx: StepContext, changes: list[Change]) -> list[str]:
    """Delete what :func:`plan_branch_removal` found (jobs first: nothing runs against a dropped database)."""
    done = []
    for change in changes:
        drop = change.payload
        if not isinstance(drop, _Drop):
            continue
        if drop.kind == "job":
            ctx.remote.jobs.delete_job(drop.name)
        elif drop.kind == "database":
            ctx.remote.sql.delete_database(ctx.target.project, drop.instance, drop.name)
        else:
            ctx.remote.secrets.delete_secret(drop.name)
        ctx.console.success(f"deleted {change.resource}")
        done.append(change.resource)
    return done
