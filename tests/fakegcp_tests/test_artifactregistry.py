from __future__ import annotations

import pytest
from google.api_core import exceptions

from fakegcp_tests.helpers import PARENT, Clients

DIGEST = "sha256:" + "ab" * 32


def test_create_get_list_repository(clients: Clients) -> None:
    op = clients.artifacts.create_repository(
        parent=PARENT, repository_id="apps", repository={"format_": "DOCKER", "description": "images"}
    )
    repo = op.result()
    assert repo.name == f"{PARENT}/repositories/apps" and repo.format_.name == "DOCKER"
    assert clients.artifacts.get_repository(name=repo.name).description == "images"
    assert [r.name for r in clients.artifacts.list_repositories(parent=PARENT)] == [repo.name]
    with pytest.raises(exceptions.Conflict):
        clients.artifacts.create_repository(parent=PARENT, repository_id="apps", repository={"format_": "DOCKER"})
    with pytest.raises(exceptions.NotFound):
        clients.artifacts.get_repository(name=f"{PARENT}/repositories/nope")


def test_bad_repository_id(mocked: Clients) -> None:
    with pytest.raises(exceptions.BadRequest):
        mocked.artifacts.create_repository(parent=PARENT, repository_id="Apps", repository={"format_": "DOCKER"})


def test_operation_polling(mocked: Clients) -> None:
    mocked.fake.artifacts.operations.polls_before_done = 1
    repo = mocked.artifacts.create_repository(
        parent=PARENT, repository_id="apps", repository={"format_": "DOCKER"}
    ).result(timeout=30)
    assert repo.name.endswith("/apps")
    assert mocked.fake.calls_to("artifactregistry.projects.locations.operations.get")


def test_docker_images(clients: Clients) -> None:
    repo = clients.fake.artifacts.add_repository(f"{PARENT}/repositories/apps")
    for i in range(3):
        clients.fake.artifacts.add_docker_image(repo["name"], f"api{i}", ["latest"], "sha256:" + f"{i}" * 64)
    clients.fake.artifacts.add_docker_image(repo["name"], "nested/web", ["v1"], DIGEST)
    pages = list(clients.artifacts.list_docker_images(request={"parent": repo["name"], "page_size": 2}).pages)
    images = [i for p in pages for i in p.docker_images]
    assert len(pages) == 2 and len(images) == 4
    by_uri = {i.uri: i for i in images}
    assert list(by_uri[f"us-central1-docker.pkg.dev/acme-staging/apps/api2@sha256:{'2' * 64}"].tags) == ["latest"]
    assert not by_uri[f"us-central1-docker.pkg.dev/acme-staging/apps/api0@sha256:{'0' * 64}"].tags  # tag moved
    nested = by_uri[f"us-central1-docker.pkg.dev/acme-staging/apps/nested/web@{DIGEST}"]
    assert clients.artifacts.get_docker_image(name=nested.name).uri == nested.uri
