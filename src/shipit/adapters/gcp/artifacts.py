"""Artifact Registry: the Docker repository images are pushed to (google-cloud-artifact-registry, REST)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipit.adapters.gcp.errors import translated, with_retries

API = "artifactregistry"
CREATE_TIMEOUT = 300.0


@dataclass(frozen=True)
class Repository:
    name: str  # projects/P/locations/L/repositories/R
    format: str  # DOCKER, MAVEN, ...
    labels: tuple[tuple[str, str], ...] = ()
    description: str = ""


class ArtifactRegistry:
    """The repository operations shipit needs. ``client`` is an ``artifactregistry_v1.ArtifactRegistryClient``."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def get_repository(self, name: str) -> Repository | None:
        from google.api_core import exceptions as gexc

        with translated(api=API, action="read", resource=f"repository {name}"):
            try:
                raw = with_retries(lambda: self._client.get_repository(name=name))
            except gexc.NotFound:
                return None
        return _repository(raw)

    def create_docker_repository(self, name: str, *, labels: Mapping[str, str], description: str) -> Repository:
        """Create a DOCKER repository and wait for the operation; one made meanwhile by someone else is fine."""
        from google.api_core import exceptions as gexc
        from google.cloud import artifactregistry_v1

        parent, repository_id = name.split("/repositories/")
        body = artifactregistry_v1.Repository(
            format_=artifactregistry_v1.Repository.Format.DOCKER,
            labels=dict(labels),
            description=description,
        )
        with translated(api=API, action="create", resource=f"repository {name}"):
            try:
                operation = self._client.create_repository(parent=parent, repository_id=repository_id, repository=body)
                raw = operation.result(timeout=CREATE_TIMEOUT)
            except gexc.Conflict:
                raw = self._client.get_repository(name=name)
        return _repository(raw)

    def delete_repository(self, name: str) -> bool:
        """Delete the repository with every image in it. False when it was already gone."""
        from shipit.adapters.gcp.deletes import delete_and_wait

        return delete_and_wait(
            lambda: self._client.delete_repository(name=name), api=API, resource=f"repository {name}"
        )


def _repository(raw: Any) -> Repository:
    fmt = raw.format_
    return Repository(
        name=str(raw.name),
        format=getattr(fmt, "name", str(fmt)),
        labels=tuple(sorted(dict(raw.labels).items())),
        description=str(raw.description or ""),
    )
