"""`shipit logs` as a subprocess against fakegcp's HTTP server: read, filter, mask, JSON lines, jobs, follow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2

from fakegcp import FakeGCP
from fakegcp.server import FakeGCPServer

PROJECT = "acme-staging"
REGION = "us-central1"
SECRET = "sk_live_canary-4f9e+(a|b)*"
CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
services:
  api: {build: {context: .}, port: 8080, secrets: [STRIPE_KEY]}
  web: {build: {context: .}, port: 8080}
"""


@dataclass
class LogsCli:
    root: Path
    fake: FakeGCP
    url: str
    env: dict[str, str]

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "shipit", *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args), cwd=self.root, env=self.env, capture_output=True, text=True, timeout=60, check=False
        )


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[LogsCli]:
    root = tmp_path / "app"
    root.mkdir()
    (root / "shipit.yaml").write_text(CONFIG)
    (root / ".env").write_text(f"STRIPE_KEY='{SECRET}'\n")
    fake = FakeGCP()
    with FakeGCPServer(fake) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_"))}
        env.update(
            CLOUDSDK_AUTH_ACCESS_TOKEN="test-token",
            CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN=url,
            CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING=url,
            NO_COLOR="1",
            XDG_STATE_HOME=str(tmp_path / "state"),
        )
        yield LogsCli(root, fake, url, env)


def revision_entry(service: str, text: str, severity: str = "INFO") -> dict[str, Any]:
    return {
        "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstdout",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {"service_name": service, "location": REGION, "revision_name": f"{service}-00001-abc"},
        },
        "severity": severity,
        "textPayload": text,
    }


def test_reads_every_service_prefixed_masks_secrets_and_sends_only_reads(cli: LogsCli) -> None:
    cli.fake.logging.add(
        [
            revision_entry("api", "starting"),
            revision_entry("web", "GET /"),
            revision_entry("api", f"charging with key {SECRET}", "ERROR"),
            {
                **revision_entry("api", "elsewhere"),
                "resource": {
                    "type": "cloud_run_revision",
                    "labels": {"service_name": "api", "location": "europe-west1"},
                },
            },
        ]
    )
    result = cli.run("logs")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(" | ")[0].strip() for line in lines] == ["api", "web", "api"]
    assert lines[0].endswith("INFO    starting") and "ERROR" in lines[2]
    assert SECRET not in result.stdout + result.stderr and "***" in lines[2]
    calls = cli.fake.calls
    assert calls and all(c.method_id == "logging.entries.list" and not c.mutating for c in calls)


def test_json_is_one_entry_per_line_and_severity_filters(cli: LogsCli) -> None:
    cli.fake.logging.add([revision_entry("api", "fine"), revision_entry("api", "bad", "ERROR")])
    result = cli.run("logs", "api", "--severity", "error", "--json")
    assert result.returncode == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(d["source"], d["textPayload"], d["severity"]) for d in docs] == [("api", "bad", "ERROR")]


def test_unknown_service_is_exit_2_with_no_call(cli: LogsCli) -> None:
    result = cli.run("logs", "apj")
    assert result.returncode == 2
    assert "no service named 'apj'" in result.stderr and "did you mean 'api'" in result.stderr
    assert "Traceback" not in result.stderr and cli.fake.calls == []


def test_job_logs_are_those_of_its_latest_execution(cli: LogsCli) -> None:
    jobs = run_v2.JobsClient(
        credentials=AnonymousCredentials(), transport="rest", client_options=ClientOptions(api_endpoint=cli.url)
    )
    parent = f"projects/{PROJECT}/locations/{REGION}"
    template = {"template": {"containers": [{"image": "busybox"}]}}
    jobs.create_job(parent=parent, job_id="acme-migrate-main", job={"template": template}).result()
    first = jobs.run_job(name=f"{parent}/jobs/acme-migrate-main").result().name.rsplit("/", 1)[-1]
    latest = jobs.run_job(name=f"{parent}/jobs/acme-migrate-main").result().name.rsplit("/", 1)[-1]

    def job_entry(execution: str, text: str) -> dict[str, Any]:
        return {
            "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr",
            "resource": {"type": "cloud_run_job", "labels": {"job_name": "acme-migrate-main", "location": REGION}},
            "labels": {"run.googleapis.com/execution_name": execution},
            "textPayload": text,
        }

    cli.fake.logging.add([job_entry(first, "old run"), job_entry(latest, "applied 3 migrations")])
    result = cli.run("logs", "--job", "acme-migrate-main")
    assert result.returncode == 0, result.stderr
    assert "applied 3 migrations" in result.stdout and "old run" not in result.stdout
    by_execution = cli.run("logs", "--job", "acme-migrate-main", "--execution", first)
    assert "old run" in by_execution.stdout and "applied" not in by_execution.stdout
    missing = cli.run("logs", "--job", "acme-nope")
    assert missing.returncode == 2 and "no Cloud Run job 'acme-nope'" in missing.stderr


def _read_until(stream: Any, needle: str, deadline: float) -> list[str]:
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} never appeared; got {lines!r}")


def test_follow_prints_new_entries_once_and_stops_cleanly_on_ctrl_c(cli: LogsCli) -> None:
    cli.fake.logging.add([revision_entry("api", "before follow")])
    proc = subprocess.Popen(
        cli.argv("logs", "api", "--follow", "--poll-interval", "0.5"),
        cwd=cli.root,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        _read_until(proc.stdout, "before follow", deadline)
        cli.fake.logging.add([revision_entry("api", "arrived 1"), revision_entry("web", "not followed")])
        cli.fake.logging.add([revision_entry("api", "arrived 2")])
        seen = _read_until(proc.stdout, "arrived 2", deadline)
        assert any("arrived 1" in line for line in seen) and not any("not followed" in line for line in seen)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "before follow" not in out and "arrived" not in out  # each entry printed once
    assert "Traceback" not in err
    polls = cli.fake.calls_to("logging.entries.list")
    assert len(polls) >= 2 and not cli.fake.mutating_calls()


def test_a_multi_region_service_is_read_in_every_region_named_like_plans(cli: LogsCli) -> None:
    (cli.root / "shipit.yaml").write_text(
        CONFIG.replace("region: us-central1}", "regions: [us-central1, europe-west1]}")
        + "  worker: {build: {context: .}, kind: worker}\n"
    )

    def located(entry: dict[str, Any], location: str) -> dict[str, Any]:
        labels = {**entry["resource"]["labels"], "location": location}
        return {**entry, "resource": {**entry["resource"], "labels": labels}}

    pool = {
        "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstdout",
        "severity": "INFO",
        "resource": {"type": "cloud_run_worker_pool", "labels": {"worker_pool_name": "worker", "location": REGION}},
        "textPayload": "polling",
    }
    cli.fake.logging.add(
        [
            revision_entry("web", "GET / in the primary"),
            located(revision_entry("web", "GET / in Europe"), "europe-west1"),
            located(revision_entry("web", "GET / elsewhere"), "asia-east1"),
            pool,
            located(pool, "europe-west1") | {"textPayload": "not a region of the worker"},
        ]
    )
    result = cli.run("logs")
    assert result.returncode == 0, result.stderr
    rows = [(line.split(" | ")[0].strip(), line.rsplit("INFO    ", 1)[-1]) for line in result.stdout.splitlines()]
    assert sorted(rows) == sorted(
        [
            ("web", "GET / in the primary"),
            ("web@europe-west1", "GET / in Europe"),
            ("worker", "polling"),
        ]
    ), result.stdout
    assert {len(line.split(" | ")[0]) for line in result.stdout.splitlines()} == {len("web@europe-west1")}
    one = cli.run("logs", "web", "--json")
    assert sorted(json.loads(line)["source"] for line in one.stdout.splitlines()) == ["web", "web@europe-west1"]
