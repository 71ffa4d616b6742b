"""The fake Cloud Logging `entries.list`, reached through shipit's adapter (requests + google-auth), both doors."""

from __future__ import annotations

from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession

from fakegcp.fixtures import GcpEndpoint
from fakegcp.logging_api import parse_filter
from shipit.adapters.gcp.logging import LogEntries
from shipit.errors import RemoteError

PROJECT = "acme-staging"
LOG = f"projects/{PROJECT}/logs/run.googleapis.com%2Fstdout"


def entry(service: str, text: str, severity: str = "INFO", **extra: Any) -> dict[str, Any]:
    labels = {"service_name": service, "location": "us-central1", "revision_name": f"{service}-00001-abc"}
    return {
        "logName": LOG,
        "resource": {"type": "cloud_run_revision", "labels": labels},
        "severity": severity,
        "textPayload": text,
        **extra,
    }


@pytest.fixture
def api(gcp: GcpEndpoint, monkeypatch: pytest.MonkeyPatch) -> LogEntries:
    if gcp.api_endpoint:
        monkeypatch.setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING", gcp.api_endpoint)
    else:
        monkeypatch.delenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING", raising=False)
    return LogEntries(AuthorizedSession(AnonymousCredentials()))  # type: ignore[no-untyped-call]


def test_filter_selects_by_resource_labels_and_severity(gcp: GcpEndpoint, api: LogEntries) -> None:
    gcp.fake.logging.add([entry("api", "a1"), entry("web", "w1"), entry("api", "a2", "ERROR")])
    log_filter = 'resource.type="cloud_run_revision" AND resource.labels.service_name="api" AND severity>=WARNING'
    page = api.list(PROJECT, log_filter, newest_first=False, page_size=10)
    assert [e["textPayload"] for e in page.entries] == ["a2"]
    call = gcp.fake.calls_to("logging.entries.list")[-1]
    assert call.body["resourceNames"] == [f"projects/{PROJECT}"] and not call.mutating


def test_order_and_pages(gcp: GcpEndpoint, api: LogEntries) -> None:
    gcp.fake.logging.add([entry("api", f"line {i}") for i in range(5)])
    first = api.list(PROJECT, "", newest_first=True, page_size=2)
    assert [e["textPayload"] for e in first.entries] == ["line 4", "line 3"] and first.next_page_token
    second = api.list(PROJECT, "", newest_first=True, page_size=2, page_token=first.next_page_token)
    assert [e["textPayload"] for e in second.entries] == ["line 2", "line 1"]


def test_other_projects_entries_are_not_listed(gcp: GcpEndpoint, api: LogEntries) -> None:
    gcp.fake.logging.add([entry("api", "mine"), {**entry("api", "theirs"), "logName": "projects/other-proj/logs/x"}])
    assert [e["textPayload"] for e in api.list(PROJECT, "", newest_first=False, page_size=10).entries] == ["mine"]


def test_a_filter_the_fake_cannot_parse_is_rejected_not_matched(gcp: GcpEndpoint, api: LogEntries) -> None:
    with pytest.raises(RemoteError, match=r"BadRequest 400"):
        api.list(PROJECT, 'resource.labels.service_name="api" AND (', newest_first=False, page_size=10)


def test_injected_forbidden_is_a_permission_error_naming_the_role(gcp: GcpEndpoint, api: LogEntries) -> None:
    gcp.fake.faults.fail("logging.entries.list", status=403)
    with pytest.raises(RemoteError) as err:
        api.list(PROJECT, "", newest_first=False, page_size=10)
    assert "permission denied" in str(err.value) and "roles/logging.viewer" in (err.value.hint or "")


def test_unavailable_is_retried(gcp: GcpEndpoint, api: LogEntries) -> None:
    gcp.fake.logging.add([entry("api", "after retry")])
    gcp.fake.faults.fail("logging.entries.list", status=503, times=1)
    assert [e["textPayload"] for e in api.list(PROJECT, "", newest_first=False, page_size=10).entries] == [
        "after retry"
    ]
    assert len(gcp.fake.calls_to("logging.entries.list")) == 2


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ('resource.labels.service_name=("api" OR "web")', {"api", "web"}),
        ('NOT resource.labels.service_name="api"', {"web", "job"}),
        ('labels."run.googleapis.com/execution_name"="mig-x1"', {"job"}),
        ('resource.type="cloud_run_revision" resource.labels.service_name="web"', {"web"}),
        ('timestamp>="2026-12-02T08:00:01Z"', {"web", "job"}),
        ("severity>=ERROR OR severity=DEBUG", {"job"}),
        ('textPayload:"HELLO"', {"api"}),
    ],
)
def test_filter_language_subset(text: str, matches: set[str]) -> None:
    entries = {
        "api": {**entry("api", "hello world"), "timestamp": "2026-12-02T08:00:00Z"},
        "web": {**entry("web", "w", "WARNING"), "timestamp": "2026-12-02T08:00:02.5Z"},
        "job": {
            "resource": {"type": "cloud_run_job", "labels": {"job_name": "mig"}},
            "labels": {"run.googleapis.com/execution_name": "mig-x1"},
            "severity": "ERROR",
            "timestamp": "2026-12-02T08:00:03Z",
        },
    }
    predicate = parse_filter(text)
    assert {name for name, e in entries.items() if predicate(e)} == matches
