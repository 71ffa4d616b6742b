"""A sidecar with `build:` (not `image:`): `shipit deploy` builds it on the real Docker engine, tags it by
content, pushes it to the real registry as SERVICE.SIDECAR and deploys the service with that digest in its
sidecar container; a re-deploy builds and pushes nothing."""

from __future__ import annotations

import json
import shutil

import pytest
from pipeline_support import PROJECT, ProjectFactory

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.terraform]

WEB = "  web:\n    build: {context: ./web}\n"
SIDECAR = "    sidecars:\n      proxy:\n        build: {context: ./proxy}\n        env: {ROLE: proxy}\n"


def test_a_built_sidecar_is_content_tagged_pushed_and_deployed_by_digest(project_factory: ProjectFactory) -> None:
    project = project_factory()
    config = project.root / "shipit.yaml"
    text = config.read_text()
    assert WEB in text
    config.write_text(text.replace(WEB, WEB + SIDECAR))
    shutil.copytree(project.root / "web", project.root / "proxy")
    (project.root / "proxy" / "index.html").write_text("<h1>proxy</h1>\n")
    project.git("add", "-A")
    project.git("commit", "-qm", "a built sidecar")

    result = project("deploy", "--yes")
    assert result.returncode == 0, str(result)
    containers = project.service("web")["template"]["containers"]
    assert [c["name"] for c in containers] == ["web", "proxy"]
    image = containers[1]["image"]
    assert image.split("@")[0].endswith(f"/{PROJECT}/{project.repository}/web.proxy"), image
    digest = image.split("@", 1)[1]
    assert containers[0]["image"].split("@")[1] != digest
    # the pushed manifest is the deployed digest, under its content tag
    status, _ = project.manifest("web.proxy", digest)
    assert status == 200
    status, tags = project.registry.request(f"/v2/{PROJECT}/{project.repository}/web.proxy/tags/list")
    assert int(status) == 200 and any(t.startswith("c-") for t in json.loads(bytes(tags))["tags"]), tags
    assert {e["name"]: e.get("value") for e in containers[1]["env"]} == {"ROLE": "proxy"}

    before = project.registry_files()
    again = project("deploy", "--yes")
    assert again.returncode == 0, str(again)
    assert project.registry_files() == before, "a re-deploy pushed again"
    assert project.service("web")["template"]["containers"][1]["image"] == image
