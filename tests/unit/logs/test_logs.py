"""`shipit logs` core: the filter it sends, reading the newest N, following with a cursor, display."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from fakegcp.logging_api import parse_filter
from fakegcp.model import Clock
from shipit.adapters.gcp.logging import LogPage
from shipit.config import load_config, resolve_target
from shipit.errors import UsageError
from shipit.logs.command import LogsOptions, sources_for
from shipit.logs.display import entry_text, format_entry
from shipit.logs.query import LogQuery, LogSource, parse_since
from shipit.logs.reader import Cursor, follow, read_recent

NOW = datetime(2026, 12, 2, 8, 0, 0, tzinfo=timezone.utc)
PROJECT = "acme-staging"


@dataclass
class MemoryLogs:
    """An in-memory entries.list that honours the filter with the fake's own parser, newest/oldest first."""

    entries: list[dict[str, Any]]
    calls: int = 0

    def list(
        self, project: str, log_filter: str, *, newest_first: bool, page_size: int, page_token: str | None = None
    ) -> LogPage:
        self.calls += 1
        match = parse_filter(log_filter)
        chosen = sorted((e for e in self.entries if match(e)), key=lambda e: (e["timestamp"], e["insertId"]))
        if newest_first:
            chosen.reverse()
        start = int(page_token or 0)
        more = start + page_size < len(chosen)
        return LogPage(tuple(chosen[start : start + page_size]), str(start + page_size) if more else None)


def run_entry(service: str, text: str, stamp: str, insert_id: str, severity: str = "INFO") -> dict[str, Any]:
    return {
        "insertId": insert_id,
        "timestamp": stamp,
        "severity": severity,
        "textPayload": text,
        "resource": {
            "type": "cloud_run_revision",
            "labels": {"service_name": service, "location": "us-central1", "revision_name": f"{service}-00002-xyz"},
        },
    }


def query(*names: str, **kw: Any) -> LogQuery:
    return LogQuery(PROJECT, "us-central1", tuple(LogSource("service", n) for n in names), parse_since("1h", NOW), **kw)


def test_filter_names_each_service_its_region_and_the_time_window() -> None:
    text = query("api", "web", severity="WARNING", revision="api-00002-xyz").log_filter()
    assert text == (
        '((resource.type="cloud_run_revision" AND resource.labels.service_name="api") OR '
        '(resource.type="cloud_run_revision" AND resource.labels.service_name="web")) AND '
        'resource.labels.location="us-central1" AND timestamp>="2026-12-02T07:00:00.000000Z" AND '
        'severity>=WARNING AND resource.labels.revision_name="api-00002-xyz"'
    )


def test_job_execution_and_worker_pool_clauses() -> None:
    assert LogSource("job", "acme-migrate-main", "acme-migrate-main-x7").clause() == (
        '(resource.type="cloud_run_job" AND resource.labels.job_name="acme-migrate-main" AND '
        'labels."run.googleapis.com/execution_name"="acme-migrate-main-x7")'
    )
    assert 'resource.type="cloud_run_worker_pool"' in LogSource("worker", "worker").clause()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10m", "2026-12-02T07:50:00+00:00"), ("2h", "2026-12-02T06:00:00+00:00"), ("1d", "2026-12-01T08:00:00+00:00")],
)
def test_since_durations(text: str, expected: str) -> None:
    assert parse_since(text, NOW).isoformat() == expected


@pytest.mark.parametrize("text", ["ten minutes", "5y", "2026-12-01T08:00:00", ""])
def test_since_rejects_what_it_cannot_read(text: str) -> None:
    with pytest.raises(UsageError, match="--since"):
        parse_since(text, NOW)


def test_read_recent_keeps_the_newest_n_in_time_order_across_pages() -> None:
    api = MemoryLogs([run_entry("api", f"l{i}", f"2026-12-02T07:30:0{i}Z", f"i{i}") for i in range(7)])
    got = read_recent(api, query("api", limit=5))
    assert [e["textPayload"] for e in got] == ["l2", "l3", "l4", "l5", "l6"]


def test_the_time_window_and_other_services_are_excluded() -> None:
    api = MemoryLogs(
        [
            run_entry("api", "too old", "2026-12-02T06:59:59Z", "a"),
            run_entry("web", "other service", "2026-12-02T07:10:00Z", "b"),
            run_entry("api", "kept", "2026-12-02T07:10:00Z", "c"),
        ]
    )
    assert [e["textPayload"] for e in read_recent(api, query("api"))] == ["kept"]


def test_follow_prints_each_entry_once_even_when_several_share_a_timestamp() -> None:
    clock = Clock()
    entries = [run_entry("api", "first", "2026-12-02T07:59:00Z", "a")]
    api = MemoryLogs(entries)

    def arrive(_seconds: float) -> None:
        # Between polls: two entries with the same timestamp as the last one seen, one new one later.
        stamp = clock.now()
        entries.extend(
            [
                run_entry("api", "same second 1", "2026-12-02T07:59:00Z", "b"),
                run_entry("api", f"later {stamp}", "2026-12-02T07:59:30.5Z", f"c{len(entries)}"),
            ]
        )

    got = [e["textPayload"] for e in follow(api, query("api"), sleep=arrive, polls=2)]
    assert got[0] == "first" and got[1] == "same second 1" and got[2].startswith("later")
    assert len(got) == 4 and len(set(got)) == 4


def test_cursor_orders_timestamps_whatever_their_fraction_digits() -> None:
    cursor = Cursor()
    assert cursor.admit({"timestamp": "2026-12-02T08:00:02.5Z", "insertId": "x"})
    assert not cursor.admit({"timestamp": "2026-12-02T08:00:02Z", "insertId": "y"})
    assert cursor.admit({"timestamp": "2026-12-02T08:00:02.500000001Z", "insertId": "z"})


def test_display_of_text_json_and_request_entries() -> None:
    assert entry_text({"jsonPayload": {"message": "charged", "amount": 3}}) == "charged"
    assert entry_text({"jsonPayload": {"amount": 3}}) == '{"amount": 3}'
    request = {"httpRequest": {"requestMethod": "GET", "status": 503, "requestUrl": "/x", "latency": "0.2s"}}
    assert entry_text(request) == "GET 503 /x 0.2s"
    lines = format_entry(run_entry("api", "boom\n  at line 2", "2026-12-02T07:10:00.123Z", "a", "ERROR"), 5)
    assert lines[0] == "api   | 2026-12-02 07:10:00 ERROR   boom"
    # Continuation lines keep their own indentation, aligned under the first line's text.
    assert lines[1] == "api   | " + " " * len("2026-12-02 07:10:00 ERROR   ") + "  at line 2"


CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
services:
  api: {build: {context: .}, port: 8080}
  web: {build: {context: .}, port: 8080}
"""


def target(tmp_path: Path) -> Any:
    path = tmp_path / "shipit.yaml"
    path.write_text(CONFIG)
    return resolve_target(load_config(path, "shipit.yaml"), None)


def test_sources_default_to_every_service_and_unknown_names_get_a_suggestion(tmp_path: Path) -> None:
    t = target(tmp_path)
    assert [s.name for s in sources_for(t, LogsOptions())] == ["api", "web"]
    with pytest.raises(UsageError) as err:
        sources_for(t, LogsOptions(names=("apj",)))
    assert "no service named 'apj'" in str(err.value) and "did you mean 'api'" in (err.value.hint or "")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (LogsOptions(execution="x"), "--execution needs --job"),
        (LogsOptions(job="Bad_Job"), "not a Cloud Run name"),
        (LogsOptions(job="mig", names=("api",)), "either service names or --job"),
        (LogsOptions(job="mig", revision="r"), "--revision applies to services"),
        (LogsOptions(revision="x; rm -rf"), "not a Cloud Run name"),
    ],
)
def test_bad_combinations_are_usage_errors(tmp_path: Path, options: LogsOptions, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        sources_for(target(tmp_path), options)
