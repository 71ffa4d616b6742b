"""Step results cross processes through the state file: `deploy --only ...` split in two processes, and
`shipit services deploy` alone after `deploy --only infra`, keep what the earlier process produced."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pipeline_support import CONNECTOR, PARENT, PROJECT, REGION, SERVICE_ACCOUNTS, Project, ProjectFactory

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.terraform]


def _image(project: Project, name: str) -> str:
    return str(project.service(name)["template"]["containers"][0]["image"])


def _state(project: Project) -> dict[str, Any]:
    return json.loads((project.root / ".shipit" / "state" / "staging.json").read_text())  # type: ignore[no-any-return]


def test_deploy_split_in_two_processes_deploys_what_the_first_pushed(project_factory: ProjectFactory) -> None:
    project = project_factory()
    first = project("deploy", "--yes", "--only", "build,infra,push")
    pushed = _state(project)["steps"]["push"]["result"]["images"]
    assert set(pushed) == {"api", "web"}, str(first)

    second = project("deploy", "--yes", "--only", "secrets,migrate,services,verify")
    assert "no image for service" not in second.output
    for name in ("api", "web"):
        assert _image(project, name) == pushed[name]
        assert project.manifest(name, pushed[name].rsplit("@", 1)[1])[0] == 200
    job = project.fake.run.jobs.jobs[f"{PARENT}/jobs/acme-migrate-main"]
    assert job["template"]["template"]["containers"][0]["image"] == pushed["api"]

    # A code change: the second process deploys the new digest, not the one running.
    project.change_api("changed")
    project("deploy", "--yes", "--only", "build,infra,push")
    repushed = _state(project)["steps"]["push"]["result"]["images"]
    assert repushed["api"] != pushed["api"] and repushed["web"] == pushed["web"]
    plan = project("plan", "--only", "services")
    assert "input push: state file .shipit/state/staging.json" in plan.output
    project("deploy", "--yes", "--only", "secrets,migrate,services,verify")
    assert _image(project, "api") == repushed["api"]


def test_services_deploy_alone_keeps_the_infrastructure_from_the_cached_outputs(
    project_factory: ProjectFactory,
) -> None:
    project = project_factory()
    project("deploy", "--yes", "--only", "build,infra,push,secrets,migrate")
    result = project("services", "deploy", "--yes")
    assert "input infra: state file .shipit/state/staging.json" in result.output
    for name in ("api", "web"):
        template = project.service(name)["template"]
        assert template["serviceAccount"] == SERVICE_ACCOUNTS[name]
    api = project.service("api")["template"]
    assert api["vpcAccess"]["connector"] == CONNECTOR
    assert api["vpcAccess"]["egress"] == "PRIVATE_RANGES_ONLY"
    volumes = {v["name"]: v for v in api.get("volumes", [])}
    assert [v["cloudSqlInstance"]["instances"] for v in volumes.values() if "cloudSqlInstance" in v] == [
        [f"{PROJECT}:{REGION}:acme-main"]
    ]

    # Without the state file (another machine that ran `shipit infra apply`): the Terraform outputs cache.
    (project.root / ".shipit" / "state" / "staging.json").unlink()
    project.change_api("again")
    project("build")
    project("push", "--yes")
    result = project("services", "deploy", "api", "--yes")
    assert "input infra: Terraform outputs cache .shipit/infra/staging/outputs.json" in result.output
    api = project.service("api")["template"]
    assert api["serviceAccount"] == SERVICE_ACCOUNTS["api"]
    assert api["vpcAccess"] == {"connector": CONNECTOR, "egress": "PRIVATE_RANGES_ONLY"}

    # status compares the live services with the same resolved inputs, and says where they came from.
    status = project("status", "--json")
    document = json.loads(status.stdout)
    assert document["inputs"]["infra"] == "Terraform outputs cache .shipit/infra/staging/outputs.json"
    assert document["inputs"]["push"].startswith("state file .shipit/state/staging.json")
    assert {r["name"]: r["drift"] for r in document["services"]}["api"] == []
