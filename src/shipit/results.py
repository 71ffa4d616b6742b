"""What each pipeline step hands to the next: one frozen, typed value per step.

A step's ``apply`` (and ``predict``) returns one of these; the pipeline keeps it for later steps of the
same run and writes the persistable ones to the environment's state file (:mod:`shipit.state`), so a
later process (`deploy --only ...` in the next CI step, `shipit services deploy`, `shipit migrate`) reads
the same value. Later steps never read them directly: :mod:`shipit.steps.resolver` picks the source.

JSON forms are plain data (``to_json``/``from_json``); no secret value is ever part of a result (secret
*versions* are, by name).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

# shipit.steps.build.BuiltImage: typed loosely here because results sit below the steps (steps import
# results, never the reverse); the build result is never persisted, so no JSON form needs its fields.
BuiltImage = Any


class StepResult(Protocol):
    STEP: ClassVar[str]
    # False: the value describes this machine only (the local Docker engine), so it is not persisted.
    PERSIST: ClassVar[bool]

    def to_json(self) -> dict[str, Any]: ...


R = TypeVar("R", bound="StepResult")
V = TypeVar("V")


class _Keyed(Mapping[str, V]):
    """Read-only mapping view of a result's main field (a result reads like the dict steps used to return)."""

    def _items(self) -> Mapping[str, V]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> V:
        return self._items()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())


def _strs(data: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, Mapping) else {}


def _dicts(data: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(data, Mapping):
        return {}
    return {str(k): dict(v) for k, v in data.items() if isinstance(v, Mapping)}


@dataclass(frozen=True)
class TestResult:
    __test__: ClassVar[bool] = False  # not a pytest class
    STEP: ClassVar[str] = "test"
    PERSIST: ClassVar[bool] = False
    ran: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"ran": self.ran}


@dataclass(frozen=True, eq=False)
class BuildResult(_Keyed[BuiltImage]):
    """{service: BuiltImage}: images in the local engine (or found in the registry)."""

    STEP: ClassVar[str] = "build"
    PERSIST: ClassVar[bool] = False
    images: Mapping[str, BuiltImage] = field(default_factory=dict)

    def _items(self) -> Mapping[str, BuiltImage]:
        return self.images

    def to_json(self) -> dict[str, Any]:
        return {n: {"ref": b.ref, "source": b.source, "digest": b.digest} for n, b in self.images.items()}


@dataclass(frozen=True, eq=False)
class PushResult(_Keyed[str]):
    """{service: "HOST/PROJECT/REPO/SERVICE@sha256:..."} (a planned push predicts ``REPO:c-<hash>``)."""

    STEP: ClassVar[str] = "push"
    PERSIST: ClassVar[bool] = True
    images: Mapping[str, str] = field(default_factory=dict)

    def _items(self) -> Mapping[str, str]:
        return self.images

    def to_json(self) -> dict[str, Any]:
        return {"images": dict(self.images)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PushResult:
        # Only digests are worth handing over: a tag names whatever is pushed under it next.
        return cls({k: v for k, v in _strs(data.get("images")).items() if "@sha256:" in v})


@dataclass(frozen=True, eq=False)
class SecretsResult(_Keyed[str]):
    """{KEY: "projects/P/secrets/ID/versions/N"}: the versions services and jobs are pinned to."""

    STEP: ClassVar[str] = "secrets"
    PERSIST: ClassVar[bool] = True
    versions: Mapping[str, str] = field(default_factory=dict)

    def _items(self) -> Mapping[str, str]:
        return self.versions

    def to_json(self) -> dict[str, Any]:
        return {"versions": dict(self.versions)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SecretsResult:
        return cls(_strs(data.get("versions")))


@dataclass(frozen=True, eq=False)
class InfraResult(_Keyed[Any]):
    """The non-sensitive Terraform outputs; ``pending``: a planned apply may still change them."""

    STEP: ClassVar[str] = "infra"
    PERSIST: ClassVar[bool] = True
    outputs: Mapping[str, Any] = field(default_factory=dict)
    pending: bool = False

    def _items(self) -> Mapping[str, Any]:
        return self.outputs

    def to_json(self) -> dict[str, Any]:
        return {"outputs": dict(self.outputs)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InfraResult:
        outputs = data.get("outputs")
        return cls(dict(outputs) if isinstance(outputs, Mapping) else {})


@dataclass(frozen=True, eq=False)
class MigrateResult(_Keyed[Mapping[str, Any]]):
    """{db: {"job", "execution", "status", "hash"}}; ``hash`` fingerprints the migration that ran."""

    STEP: ClassVar[str] = "migrate"
    PERSIST: ClassVar[bool] = True
    databases: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def _items(self) -> Mapping[str, Mapping[str, Any]]:
        return self.databases

    def to_json(self) -> dict[str, Any]:
        return {"databases": {k: dict(v) for k, v in self.databases.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MigrateResult:
        return cls(_dicts(data.get("databases")))


@dataclass(frozen=True, eq=False)
class ServicesResult(_Keyed[Mapping[str, Any]]):
    """{service: {"action", "revision", "url", "ok", ...}}: what each service runs after the step."""

    STEP: ClassVar[str] = "services"
    PERSIST: ClassVar[bool] = True
    services: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def _items(self) -> Mapping[str, Mapping[str, Any]]:
        return self.services

    def to_json(self) -> dict[str, Any]:
        return {"services": {k: dict(v) for k, v in self.services.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServicesResult:
        return cls(_dicts(data.get("services")))


@dataclass(frozen=True, eq=False)
class WorkersResult(_Keyed[Mapping[str, Any]]):
    """{worker: {"action", "revision", "release", "instances", "ok", ...}}: each worker pool after the step."""

    STEP: ClassVar[str] = "workers"
    PERSIST: ClassVar[bool] = True
    workers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def _items(self) -> Mapping[str, Mapping[str, Any]]:
        return self.workers

    def to_json(self) -> dict[str, Any]:
        return {"workers": {k: dict(v) for k, v in self.workers.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkersResult:
        return cls(_dicts(data.get("workers")))


@dataclass(frozen=True, eq=False)
class JobsResult(_Keyed[Mapping[str, Any]]):
    """{job: {"job", "action", "ok", ...}}: each Cloud Run job of ``jobs:`` after the step."""

    STEP: ClassVar[str] = "jobs"
    PERSIST: ClassVar[bool] = True
    jobs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def _items(self) -> Mapping[str, Mapping[str, Any]]:
        return self.jobs

    def to_json(self) -> dict[str, Any]:
        return {"jobs": {k: dict(v) for k, v in self.jobs.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobsResult:
        return cls(_dicts(data.get("jobs")))


@dataclass(frozen=True, eq=False)
class VerifyResult(_Keyed[Mapping[str, Any]]):
    """{service: {"ok", "detail"}} of the health checks that ran."""

    STEP: ClassVar[str] = "verify"
    PERSIST: ClassVar[bool] = True
    checks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def _items(self) -> Mapping[str, Mapping[str, Any]]:
        return self.checks

    def to_json(self) -> dict[str, Any]:
        return {"checks": {k: dict(v) for k, v in self.checks.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerifyResult:
        return cls(_dicts(data.get("checks")))


# Results a later process can read back from the state file, by step name.
PERSISTED: dict[str, Any] = {
    c.STEP: c
    for c in (
        PushResult,
        SecretsResult,
        InfraResult,
        MigrateResult,
        ServicesResult,
        WorkersResult,
        JobsResult,
        VerifyResult,
    )
}
