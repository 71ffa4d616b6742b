"""The secrets step: sync the env file's values for declared keys into Secret Manager.

plan(ctx) reads the env file and, through read-only calls, the latest enabled version of every declared
secret; it plans create-secret / add-version / unchanged / (with prune) delete-secret. apply(ctx, plan)
writes concurrently and returns {KEY: "projects/P/secrets/ID/versions/N"}, the exact versions Cloud Run
is pinned to (a new version then rolls a new revision; `latest` would never be re-read).

Which keys are declared: every service's `secrets`, the keys of its `secret_files`, its `build.secrets`,
and `secrets.extra`. Secret ids come from `secrets.naming` (default `{app}-{env}-{key}`); secrets carry
the labels managed-by=shipit, app and env, and shipit never writes to a secret without them.
"""

from __future__ import annotations

import re
import string
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from shipit.concurrency import bounded_map
from shipit.envfile import EnvFile, read_env_file
from shipit.errors import ConfigError, ConfigIssue, Location, UsageError
from shipit.names import secret_version_name
from shipit.plan import Action, Change, FieldDiff, Plan
from shipit.results import SecretsResult
from shipit.steps.ownership import infra_creates_in_this_run, missing_error, terraform_owns

if TYPE_CHECKING:
    from shipit.adapters.gcp.secrets import CurrentValue, Replication, SecretMeta
    from shipit.config import ShipitConfig, Target
    from shipit.remote import SecretsApi
    from shipit.steps.context import StepContext

STEP = "secrets"
MAX_PAYLOAD_BYTES = 65536
_SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
T = TypeVar("T")
R = TypeVar("R")

OpKind = Literal["create", "add-version", "unchanged", "delete"]


@dataclass(frozen=True)
class SecretOp:
    """What apply() does for one key (the payload of its Change). ``data`` never leaves the process."""

    key: str
    secret_id: str
    kind: OpKind
    data: bytes | None = field(default=None, repr=False)
    # The latest enabled version now, the highest number in any state, the number this op produces.
    current: int | None = None
    highest: int = 0
    version: int | None = None
    etag: str = ""


# ---------------------------------------------------------------------------- what is declared


def declared_keys(config: ShipitConfig) -> dict[str, str]:
    """KEY -> where it is first declared (for messages), in a stable order."""
    found: dict[str, str] = {}
    for name, service in config.services.items():
        for key in service.secrets:
            found.setdefault(key, f"services.{name}.secrets")
        for key in service.secret_files.values():
            found.setdefault(key, f"services.{name}.secret_files")
        for side, sidecar in service.sidecars.items():
            for key in sidecar.secrets:
                found.setdefault(key, f"services.{name}.sidecars.{side}.secrets")
        if service.build is not None:
            for key in service.build.secrets:
                found.setdefault(key, f"services.{name}.build.secrets")
        for side, sidecar in service.sidecars.items():
            for key in sidecar.build.secrets if sidecar.build is not None else ():
                found.setdefault(key, f"services.{name}.sidecars.{side}.build.secrets")
    for name, job in config.jobs.items():
        for key in job.secrets:
            found.setdefault(key, f"jobs.{name}.secrets")
    for key in config.secrets.extra:
        found.setdefault(key, "secrets.extra")
    return dict(sorted(found.items()))


def secret_ids(target: Target, keys: Iterable[str]) -> dict[str, str]:
    """KEY -> secret id from secrets.naming. The pattern itself is checked when shipit.yaml loads; a
    long key can still push one id past Secret Manager's limits, which is a usage error."""
    where = f"{target.config_file}: secrets.naming"
    ids = {key: target.secret_id(key) for key in keys}
    for key, sid in ids.items():
        if not _SECRET_ID.fullmatch(sid):
            raise UsageError(
                f"{where}: gives '{sid}' for {key}, not a valid secret id",
                hint="secret ids are 1-255 letters, digits, - and _",
            )
    return ids


def key_of(target: Target, secret_id: str) -> str | None:
    """The KEY a secret id was named for, by reversing secrets.naming (None when it does not match)."""
    naming = target.config.secrets.naming
    pattern = ""
    for literal, name, _, _ in string.Formatter().parse(naming):
        pattern += re.escape(literal)
        if name == "app":
            pattern += re.escape(target.app)
        elif name == "env":
            pattern += re.escape(target.env_name)
        elif name == "key":
            pattern += "(?P<key>[A-Za-z_][A-Za-z0-9_]*)"
    match = re.fullmatch(pattern, secret_id)
    return match.group("key") if match else None


def env_display(target: Target) -> str:
    """The env file as the user would type it: relative to the working directory when under it, else to
    the directory of shipit.yaml."""
    path = Path(target.env_file)
    for base in (Path.cwd().resolve(), target.root.resolve()):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def read_env(target: Target) -> EnvFile:
    return read_env_file(Path(target.env_file), env_display(target))


def replication(target: Target) -> Replication:
    """Automatic unless locations are listed (then user-managed in exactly those regions)."""
    from shipit.adapters.gcp.secrets import Replication

    config = target.config.secrets.replication
    if not config.automatic and not config.locations:
        raise UsageError(
            f"{target.config_file}: secrets.replication: automatic is false but no locations are listed",
            hint="list regions under secrets.replication.locations, or remove automatic: false",
        )
    return Replication(tuple(config.locations))


def version_name(target: Target, secret_id: str, version: int) -> str:
    return secret_version_name(target.project, secret_id, version)


# ---------------------------------------------------------------------------- concurrency


def run_concurrently(fn: Callable[[T], R], items: Sequence[T], concurrency: int) -> list[R]:
    """The secrets step's calls, at most ``concurrency`` at a time (see :func:`bounded_map`)."""
    return bounded_map(fn, items, concurrency, name="shipit-secrets")


# ---------------------------------------------------------------------------- plan


def _local_issues(env: EnvFile, keys: Mapping[str, str]) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for key in keys:
        value = env.values.get(key)
        if value is None:
            continue
        size = len(value.encode())
        if size > MAX_PAYLOAD_BYTES:
            issues.append(
                ConfigIssue(
                    env.location(key),
                    key,
                    f"the value is {size} bytes; Secret Manager stores at most 65536 bytes (64 KiB) per version",
                    "store a path or a smaller value, or split it into several keys",
                )
            )
        elif size == 0:
            issues.append(
                ConfigIssue(
                    env.location(key),
                    key,
                    "the value is empty; Secret Manager cannot store an empty secret",
                    f"set a value, or remove the line to keep the one in Secret Manager ({keys[key]})",
                )
            )
    return issues


def _warn_undeclared(ctx: StepContext, env: EnvFile, keys: Mapping[str, str]) -> None:
    for key in env.values:
        if key not in keys:
            ctx.console.warn(
                f"{env.location(key)}: {key} is not declared by any service, so it is not synced "
                "(add it to a service's secrets, or to secrets.extra)"
            )
    for key, lines in env.duplicates.items():
        ctx.console.warn(
            f"{env.display}: {key} is set on lines {', '.join(map(str, lines))}; the last one (line {lines[-1]}) wins"
        )


def _fetch_remote(
    store: SecretsApi, ids: Mapping[str, str], concurrency: int
) -> tuple[dict[str, SecretMeta], dict[str, CurrentValue | None]]:
    """Every secret's labels (one list call) and the current value of every declared secret that exists (one
    access call each), in one pool: the list rides along with the first reads instead of costing a round
    trip of its own. A read that starts after the list has answered skips an id the list does not hold, so
    a first sync only reads the few absent secrets whose reads began while the list was in flight."""
    listing: dict[str, SecretMeta] = {}
    listed = threading.Event()
    before_list: set[str] = set()

    def fetch(sid: str | None) -> CurrentValue | None:
        if sid is None:
            listing.update((meta.secret_id, meta) for meta in store.list_secrets())
            listed.set()
            return None
        if listed.is_set():
            return store.current(sid) if sid in listing else None
        current = store.current(sid)
        if current is None:
            before_list.add(sid)
        return current

    ordered = sorted(set(ids.values()))
    results = run_concurrently(fetch, [None, *ordered], concurrency)
    currents = {sid: value for sid, value in zip(ordered, results[1:], strict=True) if sid in listing}
    # Absent when read, listed a moment later: created concurrently by someone else; read it again.
    for sid in sorted(before_list & listing.keys()):
        currents[sid] = store.current(sid)
    return listing, currents


def plan(ctx: StepContext, *, prune: bool = False) -> Plan:
    target = ctx.target
    keys = declared_keys(target.config)
    ids = secret_ids(target, keys)
    replication(target)
    env = read_env(target)
    _warn_undeclared(ctx, env, keys)
    issues = _local_issues(env, keys)
    if issues:
        raise ConfigError(issues)

    offline = ctx.options.offline
    listing: dict[str, SecretMeta] = {}
    currents: dict[str, CurrentValue | None] = {}
    if not offline:
        listing, currents = _fetch_remote(ctx.remote.secrets, ids, target.config.secrets.concurrency)

    from shipit.render.terraform import terraform_secret_keys

    # Containers the Terraform module declares, when it is enabled; build secrets stay shipit's to create.
    terraform_keys = set(terraform_secret_keys(target.config)) if terraform_owns(target, "secrets") else set()
    absent: list[str] = []  # containers Terraform owns that do not exist yet
    ops: list[SecretOp] = []
    missing: list[ConfigIssue] = []
    unmanaged: list[str] = []
    for key, sid in ids.items():
        meta = listing.get(sid)
        current = currents.get(sid)
        value = env.values.get(key)
        if value is None:
            if current is not None and current.version is not None:
                ops.append(SecretOp(key, sid, "unchanged", None, current.version, current.highest, current.version))
            else:
                missing.append(
                    ConfigIssue(
                        Location(env.display),
                        key,
                        f"declared in {keys[key]} but set neither in {env.display} "
                        + ("(the file does not exist) " if not env.exists else "")
                        + f"nor in Secret Manager (no enabled version of secret {sid} in project {target.project})",
                        f"add {key}=value to {env.display}",
                    )
                )
            continue
        data = value.encode()
        if meta is None and key in terraform_keys:
            # One owner: Terraform declares the containers; shipit only adds versions (see steps.ownership).
            if offline or infra_creates_in_this_run(ctx):
                ops.append(SecretOp(key, sid, "add-version", data, None, 0, 1))
            else:
                absent.append(sid)
            continue
        if meta is None:
            ops.append(SecretOp(key, sid, "create", data, None, 0, 1))
            continue
        if current is not None and current.version is not None and current.data == data:
            ops.append(SecretOp(key, sid, "unchanged", data, current.version, current.highest, current.version))
            continue
        if not meta.managed:
            unmanaged.append(sid)
            continue
        highest = current.highest if current is not None else 0
        ops.append(SecretOp(key, sid, "add-version", data, current.version if current else None, highest, highest + 1))

    notes: list[str] = []
    blockers: list[str] = []
    if missing and offline:
        # An offline plan shows the whole release; the deploy itself would stop here, before any write.
        blockers.extend(f"{issue.path}: {issue.message} — a deploy would stop here ({issue.hint})" for issue in missing)
        notes.append("offline: planned as if no secret existed in Secret Manager")
    elif offline:
        notes.append("offline: planned as if no secret existed in Secret Manager")
    elif missing:
        raise ConfigError(missing)
    if absent:
        raise missing_error(target, "Secret Manager secret" if len(absent) == 1 else "Secret Manager secrets", absent)
    if any(op.kind == "add-version" and op.current is None and op.key in terraform_keys for op in ops):
        notes.append("secret containers are created by Terraform (the infra step); this step only adds versions")
    created = [op.key for op in ops if op.kind == "create"]
    if created:
        why = "build secrets, which Terraform does not declare" if terraform_keys else "infrastructure is not enabled"
        notes.append(f"secret containers for {', '.join(created)} are created by shipit ({why})")
    if unmanaged:
        from shipit.adapters.gcp.secrets import UnmanagedSecretError

        raise UnmanagedSecretError(", ".join(unmanaged))

    declared_ids = set(ids.values())
    stale = [
        meta
        for meta in listing.values()
        if meta.managed
        and meta.labels.get("app") == target.app
        and meta.labels.get("env") == target.env_name
        and meta.secret_id not in declared_ids
    ]
    if prune and stale and terraform_owns(target, "secrets"):
        # One owner: the containers are Terraform's. Deleting one here would leave Terraform's state pointing
        # at nothing (re-created, or an error, on its next apply); Terraform removes the undeclared ones.
        names = ", ".join(sorted(m.secret_id for m in stale))
        notes.append(
            f"{len(stale)} managed secret(s) no longer declared: {names}; Terraform owns the secret containers, "
            f"so `shipit infra generate` then `shipit infra apply -e {target.env_name}` removes them "
            "(--prune deletes none)"
        )
    elif prune:
        ops.extend(
            SecretOp(key_of(target, m.secret_id) or "", m.secret_id, "delete", etag=m.etag)
            for m in sorted(stale, key=lambda m: m.secret_id)
        )
    elif stale:
        names = ", ".join(sorted(m.secret_id for m in stale))
        notes.append(f"{len(stale)} managed secret(s) no longer declared: {names} (--prune deletes them)")
    return Plan.of(STEP, [_change(op, currents.get(op.secret_id)) for op in ops], notes, blockers)


# A plan says whether a value changed and which version it becomes, never anything derived from the value.
# A plain hash would let whoever reads a CI log test guesses of a weak secret offline; a keyed HMAC would need
# a key that stays secret yet is the same on every machine and CI run (or the fingerprints of two runs could
# not be compared), which means one more secret to store and rotate. The comparison itself needs no
# fingerprint: the plan reads the current version and compares the bytes.
def _change(op: SecretOp, current: CurrentValue | None) -> Change:
    if op.kind == "create":
        return Change(
            STEP,
            Action.CREATE,
            op.key,
            f"new secret {op.secret_id}",
            (FieldDiff("value", None, "(set)"), FieldDiff("version", None, "1")),
            op,
        )
    if op.kind == "add-version":
        return Change(
            STEP,
            Action.UPDATE,
            op.key,
            f"new version of {op.secret_id}",
            (
                FieldDiff("value", None, "(set)")
                if op.current is None
                else FieldDiff("value", "(current)", "(changed)"),
                FieldDiff("version", None if op.current is None else str(op.current), str(op.version)),
            ),
            op,
        )
    if op.kind == "delete":
        return Change(
            STEP,
            Action.DELETE,
            op.secret_id,
            "managed secret no longer declared: deletes it and all its versions",
            (),
            op,
        )
    why = "unchanged" if op.data is not None else "unchanged (not in .env)"
    return Change(STEP, Action.NOOP, op.key, f"{why}: {op.secret_id} version {op.version}", (), op)


# ---------------------------------------------------------------------------- predict / apply


def _ops(plan: Plan) -> list[SecretOp]:
    return [c.payload for c in plan.changes if isinstance(c.payload, SecretOp)]


def predict(ctx: StepContext, plan: Plan) -> SecretsResult:
    """The result apply() would return (version numbers as planned), for planning later steps."""
    return SecretsResult(
        {
            op.key: version_name(ctx.target, op.secret_id, op.version)
            for op in _ops(plan)
            if op.kind != "delete" and op.version is not None
        }
    )


def apply(ctx: StepContext, plan: Plan) -> SecretsResult:
    """Write the plan's changes; returns {KEY: "projects/P/secrets/ID/versions/N"} for every declared key."""
    target = ctx.target
    ops = _ops(plan)
    pending = [op for op in ops if op.kind != "unchanged"]
    versions: dict[str, int] = {op.key: op.version for op in ops if op.kind == "unchanged" and op.version}
    if pending:
        from shipit.names import owner_labels

        store = ctx.remote.secrets
        labels = owner_labels(target.app, target.env_name)
        policy = replication(target)

        def write(op: SecretOp) -> int | None:
            if op.kind == "delete":
                store.delete_secret(op.secret_id, etag=op.etag)
                ctx.console.detail(f"  - deleted {op.secret_id}")
                return None
            assert op.data is not None
            if op.kind == "create":
                store.create_secret(op.secret_id, labels, policy)
            number = store.add_version(op.secret_id, op.data, after=op.highest)
            ctx.console.detail(f"  {'+' if op.kind == 'create' else '~'} {op.key}: {op.secret_id} version {number}")
            return number

        numbers = run_concurrently(write, pending, target.config.secrets.concurrency)
        versions.update({op.key: n for op, n in zip(pending, numbers, strict=True) if n is not None})
    return SecretsResult(
        {op.key: version_name(target, op.secret_id, versions[op.key]) for op in ops if op.key in versions}
    )
