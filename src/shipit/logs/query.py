"""What `shipit logs` asks Cloud Logging for: typed sources and the `entries.list` filter built from them.

Cloud Run writes each entry with a monitored resource naming the workload (`cloud_run_revision` +
`service_name`, `cloud_run_worker_pool` + `worker_pool_name`, `cloud_run_job` + `job_name`) and, for
jobs, the execution in the label `run.googleapis.com/execution_name`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from shipit.errors import UsageError

Json = dict[str, Any]
SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
_SINCE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# Cloud Run names: lowercase letters, digits and hyphens, starting with a letter (services, jobs, pools).
_RESOURCE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")

Kind = Literal["service", "worker", "job"]
# What Cloud Run writes on each entry: the monitored resource type and the label naming the workload.
RESOURCE_LABELS = {
    "service": ("cloud_run_revision", "service_name"),
    "worker": ("cloud_run_worker_pool", "worker_pool_name"),
    "job": ("cloud_run_job", "job_name"),
}
_EXECUTION_LABEL = "run.googleapis.com/execution_name"


@dataclass(frozen=True)
class LogSource:
    """One workload whose entries are read: a service, a worker pool, or one execution of a job."""

    kind: Kind
    name: str
    execution: str | None = None
    regions: tuple[str, ...] = ()  # a multi-region service's regions, the primary first (else: the query's)

    def clause(self, regions: tuple[str, ...] = ()) -> str:
        """``regions``: where this source is read, when the query does not say one location for all."""
        resource_type, label = RESOURCE_LABELS[self.kind]
        text = f"(resource.type={_quote(resource_type)} AND resource.labels.{label}={_quote(self.name)}"
        if self.execution:
            text += f' AND labels."{_EXECUTION_LABEL}"={_quote(self.execution)}'
        if len(regions) == 1:
            text += f" AND resource.labels.location={_quote(regions[0])}"
        elif regions:
            text += f" AND resource.labels.location=({' OR '.join(_quote(r) for r in regions)})"
        return text + ")"


@dataclass(frozen=True)
class LogQuery:
    project: str
    region: str
    sources: tuple[LogSource, ...]
    since: datetime
    severity: str | None = None
    revision: str | None = None
    limit: int = 200

    def log_filter(self, after: str | None = None) -> str:
        # A multi-region service is read in each of its regions, every other source in the primary only.
        multi = any(len(s.regions) > 1 for s in self.sources)
        clauses = [s.clause(s.regions or (self.region,)) if multi else s.clause() for s in self.sources]
        parts = [" OR ".join(clauses)]
        if len(self.sources) > 1:
            parts[0] = f"({parts[0]})"
        if not multi:
            parts.append(f"resource.labels.location={_quote(self.region)}")
        parts.append(f"timestamp>={_quote(after or _rfc3339(self.since))}")
        if self.severity:
            parts.append(f"severity>={self.severity}")
        if self.revision:
            parts.append(f"resource.labels.revision_name={_quote(self.revision)}")
        return " AND ".join(parts)


def _quote(value: str) -> str:
    # The Logging query language takes JSON-style double-quoted strings.
    return json.dumps(value)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_since(text: str, now: datetime) -> datetime:
    """`10m`, `2h`, `1d`, `30s`, or an RFC 3339 time (`2026-12-01T08:00:00Z`)."""
    m = _SINCE.match(text.strip())
    if m:
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--since {text!r} is neither a duration nor a time",
            hint="use e.g. --since 10m, 2h, 1d or 2026-12-01T08:00:00Z",
        ) from None
    if moment.tzinfo is None:
        raise UsageError(f"--since {text!r} has no time zone", hint="add Z or an offset, e.g. 2026-12-01T08:00:00Z")
    return moment


def check_name(option: str, value: str) -> str:
    if not _RESOURCE_NAME.match(value):
        raise UsageError(
            f"{option} {value!r} is not a Cloud Run name", hint="lowercase letters, digits and hyphens, up to 63"
        )
    return value
