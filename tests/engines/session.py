"""One lazily started instance of each engine per test session, and what happened to them.

``get(name)`` starts the engine the first time (or re-raises the reason it is missing, cached so a
broken engine is tried only once) and returns it; ``close_all()`` stops them in reverse order.
``require(name)`` is ``get`` plus the skip/fail policy, for fixtures and the marker hook.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engines import docker, gcloud, mariadb, postgres, pubsub, registry, terraform
from engines.requirements import EngineUnavailable, missing


def _start_docker() -> docker.DockerEngine:
    return docker.ensure_engine()


def _start_compose() -> list[str]:
    return docker.find_compose()


STARTERS: dict[str, Callable[[], Any]] = {
    "docker": _start_docker,
    "compose": _start_compose,
    "registry": registry.start_registry,
    "terraform": terraform.find_terraform,
    "postgres": postgres.start_postgres,
    "mariadb": mariadb.find_mariadb,
    "pubsub": pubsub.start_pubsub_emulator,
    "gcloud": gcloud.find_gcloud,
}


@dataclass
class EngineRecord:
    name: str
    value: Any = None
    reason: str | None = None
    seconds: float = 0.0

    @property
    def available(self) -> bool:
        return self.reason is None

    def describe(self) -> str:
        if self.reason is not None:
            return f"{self.name}: MISSING ({self.reason.splitlines()[0]})"
        detail = ""
        if isinstance(self.value, docker.DockerEngine):
            kind = "private dockerd" if self.value.private else "existing daemon"
            detail = f"{kind} {self.value.server_version} at {self.value.host}"
        elif isinstance(self.value, registry.RegistryServer | pubsub.PubSubEmulator):
            detail = self.value.host
        elif isinstance(self.value, postgres.PostgresServer):
            detail = f"{self.value.host}:{self.value.port} ({self.value.bindir})"
        elif isinstance(self.value, gcloud.GcloudCli | terraform.Terraform):
            detail = f"{self.value.version} ({self.value.path})"
        elif isinstance(self.value, list):
            detail = " ".join(self.value)
        return f"{self.name}: {detail} [{self.seconds:.1f}s]"


@dataclass
class Engines:
    records: dict[str, EngineRecord] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        """The started engine, or EngineUnavailable with the (cached) reason."""
        record = self.records.get(name)
        if record is None:
            began = time.monotonic()
            record = EngineRecord(name)
            try:
                record.value = STARTERS[name]()
            except EngineUnavailable as err:
                record.reason = str(err)
            except Exception as err:  # an engine that crashes while starting is missing too
                record.reason = f"{type(err).__name__}: {err}"
            record.seconds = time.monotonic() - began
            self.records[name] = record
        if record.reason is not None:
            raise EngineUnavailable(record.reason)
        return record.value

    def require(self, name: str) -> Any:
        """``get`` under the policy: skip (or fail, with SHIPIT_TEST_REQUIRE_ALL=1) if missing."""
        try:
            return self.get(name)
        except EngineUnavailable as err:
            reason = str(err)
        missing(name, reason)  # outside the except: no chained traceback in the report

    def close_all(self) -> None:
        for record in reversed(list(self.records.values())):
            stop = getattr(record.value, "stop", None)
            if callable(stop):
                stop()
        # keep the records: the terminal summary reports them after the session ends


ENGINES = Engines()
