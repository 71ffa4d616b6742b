"""CloudRunJobs.wait: polls an execution until it finished, bounded by a timeout (injected clock, no sleeping)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.cloud import run_v2

from shipit.adapters.gcp.jobs import CloudRunJobs
from shipit.errors import RemoteError

NAME = "projects/p/locations/r/jobs/acme-migrate-main/executions/acme-migrate-main-x1"
RUNNING = {"name": NAME, "taskCount": 1, "conditions": [{"type": "Completed", "state": "CONDITION_PENDING"}]}
FAILED = {
    "name": NAME,
    "taskCount": 1,
    "failedCount": 1,
    "completionTime": "2026-01-01T00:00:00Z",
    "logUri": "https://console.cloud.google.com/logs/viewer?x",
    "conditions": [
        {"type": "Started", "state": "CONDITION_SUCCEEDED"},
        {"type": "Completed", "state": "CONDITION_FAILED", "message": "Task x1-task0 failed: exit code 1"},
    ],
}
SUCCEEDED = {
    "name": NAME,
    "taskCount": 1,
    "succeededCount": 1,
    "completionTime": "2026-01-01T00:00:00Z",
    "conditions": [{"type": "Completed", "state": "CONDITION_SUCCEEDED"}],
}


class _Executions:
    def __init__(self, *states: dict[str, Any]) -> None:
        self.states = list(states)
        self.gets = 0

    def get_execution(self, name: str) -> run_v2.Execution:
        self.gets += 1
        state = self.states[min(self.gets, len(self.states)) - 1]
        return run_v2.Execution.from_json(json.dumps(state))


class _Clients:
    def __init__(self, executions: _Executions) -> None:
        self.run_executions = executions


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _client(*states: dict[str, Any]) -> tuple[CloudRunJobs, _Executions, _Clock]:
    executions, clock = _Executions(*states), _Clock()
    client = CloudRunJobs(_Clients(executions), sleep=clock.sleep, clock=lambda: clock.now)  # type: ignore[arg-type]
    return client, executions, clock


def test_wait_polls_until_the_execution_finished() -> None:
    client, executions, clock = _client(RUNNING, RUNNING, SUCCEEDED)
    state = client.wait(NAME, timeout=600)
    assert state.done and state.succeeded
    assert executions.gets == 3 and len(clock.slept) == 2


def test_a_failed_execution_reports_its_condition_message_first_and_its_logs() -> None:
    client, _, _ = _client(FAILED)
    state = client.wait(NAME, timeout=600)
    assert state.done and not state.succeeded
    assert state.messages == ("Task x1-task0 failed: exit code 1",)
    assert state.log_uri == "https://console.cloud.google.com/logs/viewer?x"


def test_wait_gives_up_after_the_timeout() -> None:
    client, executions, clock = _client(RUNNING)
    with pytest.raises(RemoteError, match="still running after 30s"):
        client.wait(NAME, timeout=30)
    assert clock.now <= 30 and executions.gets > 1
