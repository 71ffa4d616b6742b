"""`shipit secrets list` and `shipit secrets pull`: read-only views of the synced secrets.

list shows names, version counts, the latest version and creation time: never a value, nor a hash of one
(a plain hash lets whoever reads a CI log test guesses of a weak secret offline).
pull writes the values into an env file (mode 0600) for a new developer; values go nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipit.envfile import render_env, write_private
from shipit.errors import UsageError
from shipit.steps.secrets import declared_keys, key_of, run_concurrently, secret_ids

if TYPE_CHECKING:
    from shipit.adapters.gcp.secrets import CurrentValue, SecretMeta, VersionMeta
    from shipit.steps.context import StepContext


@dataclass(frozen=True)
class SecretRow:
    key: str
    secret_id: str
    status: str  # "synced", "missing" (declared, not in Secret Manager), "undeclared" (managed, no longer declared)
    versions: int = 0
    latest: int | None = None
    enabled: int | None = None
    created: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "secret": self.secret_id,
            "status": self.status,
            "versions": self.versions,
            "latest_version": self.latest,
            "latest_enabled_version": self.enabled,
            "create_time": self.created,
        }


def inventory(ctx: StepContext) -> list[SecretRow]:
    """Every declared key and every managed secret of this app and environment."""
    from shipit.names import owner_labels

    target = ctx.target
    ids = secret_ids(target, declared_keys(target.config))
    store = ctx.remote.secrets
    managed = {m.secret_id: m for m in store.list_secrets(owner_labels(target.app, target.env_name))}

    def details(meta: SecretMeta) -> tuple[list[VersionMeta], CurrentValue | None]:
        return store.list_versions(meta.secret_id) or [], store.current(meta.secret_id)

    metas = sorted(managed.values(), key=lambda m: m.secret_id)
    fetched = run_concurrently(details, metas, target.config.secrets.concurrency)
    found = dict(zip([m.secret_id for m in metas], fetched, strict=True))
    rows: list[SecretRow] = []
    for key, sid in ids.items():
        if sid not in managed:
            rows.append(SecretRow(key, sid, "missing"))
    for meta in metas:
        versions, current = found[meta.secret_id]
        declared = next((k for k, s in ids.items() if s == meta.secret_id), None)
        rows.append(
            SecretRow(
                declared or key_of(target, meta.secret_id) or "",
                meta.secret_id,
                "synced" if declared else "undeclared",
                len(versions),
                versions[0].version if versions else None,
                current.version if current else None,
                meta.create_time,
            )
        )
    return sorted(rows, key=lambda r: (r.key, r.secret_id))


@dataclass(frozen=True)
class PullResult:
    path: Path
    written: dict[str, int]  # KEY -> version written
    missing: tuple[str, ...]


def pull(ctx: StepContext, output: Path, *, force: bool, display: str, dry_run: bool = False) -> PullResult:
    """Write every declared key's latest enabled value to ``output`` (0600); ``dry_run`` reads, writes nothing.
    Checks ``output`` first, so a refusal to overwrite costs no remote call."""
    if output.exists() and not force:
        raise UsageError(f"{display} already exists", hint="pass --force to overwrite it, or --output another file")
    if output.is_dir():
        raise UsageError(f"{display} is a directory", hint="pass --output FILE")
    target = ctx.target
    ids = secret_ids(target, declared_keys(target.config))
    store = ctx.remote.secrets
    keys = list(ids)
    currents = run_concurrently(lambda k: store.current(ids[k]), keys, target.config.secrets.concurrency)
    values: list[tuple[str, str]] = []
    written: dict[str, int] = {}
    missing: list[str] = []
    for key, current in zip(keys, currents, strict=True):
        if current is None or current.data is None or current.version is None:
            missing.append(key)
            continue
        try:
            text = current.data.decode("utf-8")
        except UnicodeDecodeError:
            ctx.console.warn(f"{key}: secret {ids[key]} holds binary data, which an env file cannot carry; skipped")
            continue
        values.append((key, text))
        written[key] = current.version
    header = [
        f"written by `shipit secrets pull -e {target.env_name}` from project {target.project}",
        "holds secret values: keep it private (mode 0600) and never commit it",
    ]
    header.extend(f"{key}: not in Secret Manager yet" for key in missing)
    if not dry_run:
        write_private(output, render_env(values, header), overwrite=True)
    return PullResult(output, written, tuple(missing))
