"""Secret Manager: the one typed boundary between shipit and google.cloud.secretmanager_v1.

Every call is paced under the project's published quotas (600 reads/min, 600 writes/min, 90,000
accesses/min), retried on 429/5xx and dropped connections, and translated into ShipitErrors. Writes are
safe to retry: a create that answers 409 checks the existing secret is ours, an add-version whose response
was lost checks the newest version before adding another, a delete that answers 404 is done.

Payloads are checksummed both ways (``dataCrc32c``). Values are registered with REDACTOR when read and
never appear in exceptions.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shipit.adapters.gcp.errors import translated, with_retries
from shipit.errors import RemoteError, ShipitError
from shipit.names import is_managed, secret_name, secret_version_name
from shipit.output import REDACTOR

T = TypeVar("T")

MAX_PAYLOAD_BYTES = 65536  # Secret Manager's limit for one version
_API = "secretmanager"
_TIMEOUT = 60.0

# Published per-project quotas (https://cloud.google.com/secret-manager/quotas), requests per minute.
QUOTAS_PER_MINUTE = {"read": 600, "write": 600, "access": 90_000}


# ---------------------------------------------------------------------------- pacing


class RatePacer:
    """At most ``limit`` calls in any rolling ``window`` seconds (a sliding log, so bursts are allowed
    while a one-minute quota can never be exceeded by this process)."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until a call may go out; returns how long it waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._stamps and self._stamps[0] <= now - self.window:
                    self._stamps.popleft()
                if len(self._stamps) < self.limit:
                    self._stamps.append(now)
                    return waited
                pause = self._stamps[0] + self.window - now
            self._sleep(pause)
            waited += pause


_pacers: dict[tuple[str, str], RatePacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(project: str, kind: str) -> RatePacer:
    """The process-wide pacer of one quota of one project (quotas are per project, not per client)."""
    with _pacers_lock:
        key = (project, kind)
        if key not in _pacers:
            _pacers[key] = RatePacer(QUOTAS_PER_MINUTE[kind])
        return _pacers[key]


# ---------------------------------------------------------------------------- checksums


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli), as Secret Manager's dataCrc32c. Uses google-crc32c's C code when installed."""
    try:
        import google_crc32c  # type: ignore[import-not-found,unused-ignore]

        return int(google_crc32c.value(data))
    except ImportError:
        crc = 0xFFFFFFFF
        table = _crc_table()
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF


_TABLE: list[int] = []


def _crc_table() -> list[int]:
    if not _TABLE:
        for n in range(256):
            c = n
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _TABLE.append(c)
    return _TABLE


# ---------------------------------------------------------------------------- shipit's own types


@dataclass(frozen=True)
class Replication:
    """Automatic replication when ``locations`` is empty, else user-managed in those regions."""

    locations: tuple[str, ...] = ()

    def to_api(self) -> dict[str, Any]:
        if not self.locations:
            return {"automatic": {}}
        return {"user_managed": {"replicas": [{"location": loc} for loc in self.locations]}}


@dataclass(frozen=True)
class SecretMeta:
    secret_id: str
    name: str
    labels: Mapping[str, str]
    create_time: str | None
    etag: str = ""

    @property
    def managed(self) -> bool:
        return is_managed(self.labels)


@dataclass(frozen=True)
class VersionMeta:
    version: int
    state: str
    create_time: str | None


@dataclass(frozen=True)
class CurrentValue:
    """The latest enabled version of a secret, and the highest version number in any state."""

    version: int | None
    data: bytes | None = field(repr=False)
    highest: int

    @property
    def next_version(self) -> int:
        return self.highest + 1


class UnmanagedSecretError(ShipitError):
    def __init__(self, secret_id: str) -> None:
        super().__init__(
            f"secret {secret_id} exists but is not managed by shipit (no label managed-by=shipit)",
            hint=f"shipit never changes it: rename the key, change secrets.naming, or adopt it with "
            f"`gcloud secrets update {secret_id} --update-labels=managed-by=shipit`",
        )


def _version_number(name: str) -> int:
    return int(name.rsplit("/", 1)[1])


def _timestamp(value: Any) -> str | None:
    if not value:
        return None
    iso = getattr(value, "isoformat", None)
    return str(iso()) if iso else str(value)


# ---------------------------------------------------------------------------- the client


class SecretStore:
    """Secret Manager for one project. Thread-safe: the step calls it from a pool of workers."""

    def __init__(
        self,
        client: Any,
        project: str,
        *,
        pacers: Mapping[str, RatePacer] | None = None,
        sleep: Callable[[float], Any] | None = None,
        pool_size: int | None = None,
    ) -> None:
        self._client = client
        self.project = project
        self._pacers = dict(pacers) if pacers is not None else {k: pacer_for(project, k) for k in QUOTAS_PER_MINUTE}
        self._sleep = sleep
        _tune_session(client, pool_size)

    # -- names ----------------------------------------------------------------------------
    @property
    def parent(self) -> str:
        return f"projects/{self.project}"

    def secret_name(self, secret_id: str) -> str:
        return secret_name(self.project, secret_id)

    def version_name(self, secret_id: str, version: int | str) -> str:
        return secret_version_name(self.project, secret_id, version)

    # -- plumbing ---------------------------------------------------------------------------
    def _call(self, kind: str, action: str, resource: str, fn: Callable[[], T]) -> T:
        pacer = self._pacers[kind]

        def paced() -> T:
            pacer.acquire()
            return fn()

        with translated(api=_API, action=action, resource=resource):
            return with_retries(paced, sleep=self._sleep)

    # -- reads ------------------------------------------------------------------------------
    def list_secrets(self, label_filter: Mapping[str, str] | None = None) -> list[SecretMeta]:
        """Every secret of the project (optionally only those carrying all of ``label_filter``)."""
        flt = " AND ".join(f"labels.{k}={v}" for k, v in (label_filter or {}).items())

        def fetch() -> list[SecretMeta]:
            pager = self._client.list_secrets(
                request={"parent": self.parent, "page_size": 25000, "filter": flt}, retry=None, timeout=_TIMEOUT
            )
            return [_secret_meta(s) for s in pager]

        return self._call("read", "list secrets of", f"project {self.project}", fetch)

    def get_secret(self, secret_id: str) -> SecretMeta | None:
        from google.api_core import exceptions as gexc

        def fetch() -> SecretMeta | None:
            try:
                secret = self._client.get_secret(
                    request={"name": self.secret_name(secret_id)}, retry=None, timeout=_TIMEOUT
                )
            except gexc.NotFound:
                return None
            return _secret_meta(secret)

        return self._call("read", "read", f"secret {secret_id}", fetch)

    def list_versions(self, secret_id: str) -> list[VersionMeta] | None:
        """Newest first, every state; None when the secret does not exist."""
        from google.api_core import exceptions as gexc

        def fetch() -> list[VersionMeta] | None:
            try:
                pager = self._client.list_secret_versions(
                    request={"parent": self.secret_name(secret_id), "page_size": 25000}, retry=None, timeout=_TIMEOUT
                )
                versions = list(pager)
            except gexc.NotFound:
                return None
            out = [VersionMeta(_version_number(v.name), v.state.name, _timestamp(v.create_time)) for v in versions]
            return sorted(out, key=lambda v: v.version, reverse=True)

        return self._call("read", "list versions of", f"secret {secret_id}", fetch)

    def _access(self, secret_id: str, version: str) -> tuple[int, bytes] | None:
        """(version number, data) of one version; None when it does not exist or is not enabled."""
        from google.api_core import exceptions as gexc

        resource = f"secret {secret_id}"

        def fetch() -> tuple[int, bytes] | None:
            try:
                response = self._client.access_secret_version(
                    request={"name": self.version_name(secret_id, version)}, retry=None, timeout=_TIMEOUT
                )
            except gexc.NotFound:
                return None
            except (gexc.FailedPrecondition, gexc.BadRequest) as exc:
                # Over REST, FAILED_PRECONDITION (the version is disabled or destroyed) arrives as a 400.
                if isinstance(exc, gexc.FailedPrecondition) or _rpc_status(exc) == "FAILED_PRECONDITION":
                    return None
                raise
            data = bytes(response.payload.data)
            REDACTOR.register(data)
            if "data_crc32c" in response.payload and int(response.payload.data_crc32c) != crc32c(data):
                # DataLoss is a 500: with_retries reads it again, and a persistent mismatch fails loudly.
                raise gexc.DataLoss(  # type: ignore[no-untyped-call]
                    f"checksum mismatch reading {resource}: the payload was corrupted in transit"
                )
            return _version_number(response.name), data

        return self._call("access", "read the value of", resource, fetch)

    def current(self, secret_id: str) -> CurrentValue | None:
        """The latest enabled version's value; None when the secret or all of its versions are absent.

        One access call normally. Only when the newest version is disabled or destroyed are the versions
        listed to find the newest enabled one.
        """
        latest = self._access(secret_id, "latest")
        if latest is not None:
            return CurrentValue(latest[0], latest[1], latest[0])
        versions = self.list_versions(secret_id)
        if not versions:
            return None
        highest = versions[0].version
        for meta in versions:
            if meta.state == "ENABLED":
                found = self._access(secret_id, str(meta.version))
                if found is not None:
                    return CurrentValue(found[0], found[1], highest)
        return CurrentValue(None, None, highest)

    # -- writes -----------------------------------------------------------------------------
    def create_secret(self, secret_id: str, labels: Mapping[str, str], replication: Replication) -> SecretMeta:
        """Create the secret; an existing one (e.g. our own create whose response was lost) is accepted
        only if it carries managed-by=shipit."""
        from google.api_core import exceptions as gexc

        def create() -> SecretMeta | None:
            try:
                secret = self._client.create_secret(
                    request={
                        "parent": self.parent,
                        "secret_id": secret_id,
                        "secret": {"labels": dict(labels), "replication": replication.to_api()},
                    },
                    retry=None,
                    timeout=_TIMEOUT,
                )
            except gexc.Conflict:  # REST gives the HTTP-level class, not AlreadyExists
                return None
            return _secret_meta(secret)

        created = self._call("write", "create", f"secret {secret_id}", create)
        if created is not None:
            return created
        existing = self.get_secret(secret_id)
        if existing is None:
            raise RemoteError(f"could not create secret {secret_id}: it exists and vanished meanwhile", hint="re-run")
        if not existing.managed:
            raise UnmanagedSecretError(secret_id)
        return existing

    def add_version(self, secret_id: str, data: bytes, *, after: int) -> int:
        """Add a version holding ``data``; returns its number. ``after`` is the highest version number seen
        when planning: before any retry, a newer version with the same data means our earlier attempt
        landed and its response was lost, so it is returned instead of adding a duplicate."""
        if len(data) > MAX_PAYLOAD_BYTES:
            raise ShipitError(f"the value for secret {secret_id} is {len(data)} bytes, over the 64 KiB limit")
        checksum = crc32c(data)
        attempts = 0

        def add() -> int:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                landed = self._access(secret_id, "latest")
                if landed is not None and landed[0] > after and landed[1] == data:
                    return landed[0]
            self._pacers["write"].acquire()
            version = self._client.add_secret_version(
                request={"parent": self.secret_name(secret_id), "payload": {"data": data, "data_crc32c": checksum}},
                retry=None,
                timeout=_TIMEOUT,
            )
            return _version_number(version.name)

        with translated(api=_API, action="add a version to", resource=f"secret {secret_id}"):
            return with_retries(add, sleep=self._sleep)

    def delete_secret(self, secret_id: str, *, etag: str = "") -> None:
        """Delete the secret and all its versions. ``etag`` (from listing) makes it fail with a conflict if the
        secret changed since; a 404 (already gone, or our earlier attempt's response was lost) is success."""
        from google.api_core import exceptions as gexc

        def delete() -> None:
            request = {"name": self.secret_name(secret_id)} | ({"etag": etag} if etag else {})
            try:
                self._client.delete_secret(request=request, retry=None, timeout=_TIMEOUT)
            except gexc.NotFound:
                return

        self._call("write", "delete", f"secret {secret_id}", delete)

    # -- access -----------------------------------------------------------------------------
    def accessors(self, secret_id: str) -> list[str]:
        """The members holding roles/secretmanager.secretAccessor on the secret itself."""

        def fetch() -> list[str]:
            policy = self._client.get_iam_policy(
                request={"resource": self.secret_name(secret_id)}, retry=None, timeout=_TIMEOUT
            )
            return sorted({m for b in policy.bindings if b.role == ACCESSOR_ROLE for m in b.members})

        return self._call("read", "read the access policy of", f"secret {secret_id}", fetch)

    def grant_access(self, secret_id: str, members: list[str]) -> None:
        """Give ``members`` roles/secretmanager.secretAccessor on the secret (read, add, write with the etag)."""
        if not members:
            return

        def grant() -> None:
            name = self.secret_name(secret_id)
            policy = self._client.get_iam_policy(request={"resource": name}, retry=None, timeout=_TIMEOUT)
            bindings = [{"role": b.role, "members": list(b.members)} for b in policy.bindings]
            held = {m for b in bindings if b["role"] == ACCESSOR_ROLE for m in b["members"]}
            missing = sorted(set(members) - held)
            if not missing:
                return
            bindings = [b for b in bindings if b["role"] != ACCESSOR_ROLE]
            bindings.append({"role": ACCESSOR_ROLE, "members": sorted(held | set(missing))})
            body = {"bindings": bindings, "etag": policy.etag} if policy.etag else {"bindings": bindings}
            self._client.set_iam_policy(request={"resource": name, "policy": body}, retry=None, timeout=_TIMEOUT)

        self._call("write", "grant access to", f"secret {secret_id}", grant)


ACCESSOR_ROLE = "roles/secretmanager.secretAccessor"


def _rpc_status(exc: Any) -> str | None:
    """The google.rpc status name ("FAILED_PRECONDITION") of an HTTP error, which REST maps to a bare 400."""
    response = getattr(exc, "response", None)
    try:
        return str(response.json()["error"]["status"]) if response is not None else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _secret_meta(secret: Any) -> SecretMeta:
    # Read the underlying protobuf, not the proto-plus wrapper: a list of hundreds of secrets is parsed while
    # the step's other workers wait for the GIL, and proto-plus's per-field marshalling is 4x slower.
    pb = type(secret).pb(secret)
    name = str(pb.name)
    return SecretMeta(
        secret_id=name.rsplit("/", 1)[1],
        name=name,
        labels=dict(pb.labels),
        create_time=_pb_timestamp(pb, "create_time"),
        etag=str(pb.etag),
    )


def _pb_timestamp(pb: Any, field_name: str) -> str | None:
    from datetime import timezone

    if not pb.HasField(field_name):
        return None
    return str(getattr(pb, field_name).ToDatetime(tzinfo=timezone.utc).isoformat())


def _tune_session(client: Any, pool_size: int | None) -> None:
    """Best effort on the REST transport's requests session (not public API), for many small concurrent calls:

    - requests keeps 10 connections per host; more workers than that would open and throw away connections.
    - With trust_env on, requests scans os.environ for proxy settings twice per request (~2.5 ms of CPU under
      the GIL with a typical environment: a third of a warm sync's client time). When no proxy variable is
      set there is nothing to find, so the scan is switched off (a CA bundle variable is applied once).
    """
    import os

    session = getattr(getattr(client, "_transport", None), "_session", None)
    if session is None:
        return
    if pool_size and pool_size > 10:
        from requests.adapters import HTTPAdapter

        for prefix in ("https://", "http://"):
            session.mount(prefix, HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size))
    if any(name.lower().endswith("_proxy") for name in os.environ):
        return
    # What trust_env would still have found: a CA bundle (same precedence as requests). Auth is a bearer
    # header set by google-auth, so ~/.netrc never applied.
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False
