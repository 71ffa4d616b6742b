"""A release that fails part-way (migration, revision, health check) moves no traffic, or moves it back.

Each test starts from its own freshly deployed project, then deploys a new api image into a failure.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pipeline_support import JOB, PARENT, Project, ProjectFactory

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.terraform]

PORT_FAILURE = (
    "The user-provided container failed to start and listen on the port defined provided by the PORT=8080 "
    "environment variable within the allocated timeout."
)


@pytest.fixture
def project(project_factory: ProjectFactory) -> Project:
    project = project_factory()
    project("deploy", "--yes")
    return project


def _live(project: Project) -> dict[str, Any]:
    # A copy: the fake updates its services in place.
    return copy.deepcopy({name: project.fake.run.services[f"{PARENT}/services/{name}"] for name in ("api", "web")})


def test_failing_migration_moves_no_traffic(project: Project) -> None:
    before = _live(project)
    project.fake.run.fail_executions(JOB, 'psql: ERROR: relation "users" already exists')
    project.fake.reset_calls()
    project.change_api("v2")

    result = project("deploy", "--yes", expect=1)

    assert 'relation "users" already exists' in result.stderr
    assert "no traffic was moved" in result.stderr
    assert "Traceback" not in result.output
    calls = project.fake.calls
    ran = max(i for i, c in enumerate(calls) if c.method_id == "run.projects.locations.jobs.run")
    later = [c.method_id for c in calls[ran + 1 :] if c.mutating]
    assert later == [], f"writes after the failed migration: {later}"
    assert not project.fake.calls_to("run.projects.locations.services.patch")
    assert _live(project) == before

    # Fixed: the next deploy runs the migration again and releases.
    project.fake.run.jobs.failing.clear()
    project("deploy", "--yes")
    assert (
        project.service("api")["template"]["containers"][0]["image"]
        != before["api"]["template"]["containers"][0]["image"]
    )


def test_failing_revision_keeps_traffic_on_the_previous_one(project: Project) -> None:
    previous = project.serving("api")
    assert len(previous) == 1
    web_before = copy.deepcopy(project.service("web"))
    project.fake.run.fail_revisions("api", message=PORT_FAILURE)
    project.change_api("v2")

    result = project("deploy", "--yes", expect=1)

    assert "did not start listening on port 8080" in result.stderr, str(result)
    assert previous[0][0] in result.stderr  # "traffic stays on api-00001-..."
    assert "Traceback" not in result.output
    assert project.serving("api") == previous
    assert project.service("web") == web_before

    # Fixed: the same deploy again rolls out a Ready revision, and then there is nothing left to do.
    project.fake.run.allow_revisions("api")
    project("deploy", "--yes")
    assert project.serving("api")[0][0] != previous[0][0]
    assert "no changes" in project("deploy", "--yes").output


def test_failing_health_check_rolls_traffic_back(project: Project) -> None:
    previous = project.serving("api")
    project.health.status = 500
    project.change_api("v2")

    result = project("deploy", "--yes", "--json", expect=1)

    events = result.json_lines()  # every stdout line is one JSON event, the error included
    assert [e["step"] for e in events if e.get("event") == "error"] == ["verify"]
    assert events[-1]["error"]["exit_code"] == 1  # the CLI's closing error document
    assert "health check failed" in result.stderr, str(result)
    assert "api: GET /health -> HTTP 500" in result.stderr
    assert "traffic rolled back for api" in result.stderr
    assert "Traceback" not in result.output
    assert project.serving("api") == previous
    assert len(project.revisions("api")) == 2

    # Healthy again: a re-run moves traffic to the new revision (no new revision) and verifies it.
    project.health.status = 200
    project("deploy", "--yes")
    assert project.serving("api")[0][0] != previous[0][0]
    assert len(project.revisions("api")) == 2
