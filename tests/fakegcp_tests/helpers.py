from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.auth.credentials import AnonymousCredentials
from google.cloud import artifactregistry_v1, run_v2, secretmanager_v1

from fakegcp.fixtures import GcpEndpoint

PROJECT = "acme-staging"
LOCATION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"


@dataclass
class Clients:
    endpoint: GcpEndpoint
    secrets: secretmanager_v1.SecretManagerServiceClient
    services: run_v2.ServicesClient
    revisions: run_v2.RevisionsClient
    jobs: run_v2.JobsClient
    executions: run_v2.ExecutionsClient
    artifacts: artifactregistry_v1.ArtifactRegistryClient

    @property
    def fake(self) -> Any:
        return self.endpoint.fake


def make_clients(endpoint: GcpEndpoint) -> Clients:
    kw: dict[str, Any] = {
        "transport": "rest",
        "credentials": AnonymousCredentials(),
        "client_options": endpoint.client_options(),
    }
    return Clients(
        endpoint,
        secretmanager_v1.SecretManagerServiceClient(**kw),
        run_v2.ServicesClient(**kw),
        run_v2.RevisionsClient(**kw),
        run_v2.JobsClient(**kw),
        run_v2.ExecutionsClient(**kw),
        artifactregistry_v1.ArtifactRegistryClient(**kw),
    )
