"""Builds google-cloud-* clients with the REST transport, shared credentials and endpoint overrides."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from shipit.adapters.gcp.auth import credentials, endpoint_override


def _options(api: str) -> Any:
    from google.api_core.client_options import ClientOptions

    endpoint = endpoint_override(api)
    return ClientOptions(api_endpoint=endpoint) if endpoint else ClientOptions()


class GcpClients:
    """Lazily built, thread-safe clients (the REST transport uses a requests Session per client)."""

    def __init__(self, response_limit: int | None = None) -> None:
        self._lock = threading.Lock()
        self._response_limit = response_limit

    def _build(self, factory: Any, api: str) -> Any:
        from shipit.adapters.gcp.bounded import RESPONSE_LIMIT, bound_client

        creds, _ = credentials()
        client = factory(credentials=creds, transport="rest", client_options=_options(api))
        return bound_client(client, self._response_limit or RESPONSE_LIMIT)

    @cached_property
    def secret_manager(self) -> Any:
        from google.cloud import secretmanager_v1

        return self._build(secretmanager_v1.SecretManagerServiceClient, "secretmanager")

    @cached_property
    def run_services(self) -> Any:
        from google.cloud import run_v2

        return self._build(run_v2.ServicesClient, "run")

    @cached_property
    def run_revisions(self) -> Any:
        from google.cloud import run_v2

        return self._build(run_v2.RevisionsClient, "run")

    @cached_property
    def run_worker_pools(self) -> Any:
        from google.cloud import run_v2

        return self._build(run_v2.WorkerPoolsClient, "run")

    @cached_property
    def run_jobs(self) -> Any:
        from google.cloud import run_v2

        return self._build(run_v2.JobsClient, "run")

    @cached_property
    def run_executions(self) -> Any:
        from google.cloud import run_v2

        return self._build(run_v2.ExecutionsClient, "run")

    @cached_property
    def artifact_registry(self) -> Any:
        from google.cloud import artifactregistry_v1

        return self._build(artifactregistry_v1.ArtifactRegistryClient, "artifactregistry")
