"""The remote boundary: every client a step uses to reach outside the process, on one object.

:class:`Remote` hands out typed clients for Cloud Run services and jobs, Secret Manager, Artifact
Registry, Cloud Storage, Cloud Build, Cloud SQL databases, the OCI registry, the Docker engine, Terraform and
HTTP health checks. Each is built on first use (the google-cloud-* and docker imports stay lazy, so
`shipit --help` stays fast) and typed by the Protocols below, which the adapters under ``shipit/adapters/``
implement. Tests pass their own clients as keyword arguments (in-memory fakes), or none, so the real
clients talk to the HTTP fake.
Steps reach it as ``ctx.remote``; plans never hold it (apply() gets it from the context again).

A missing remote resource is :class:`shipit.errors.NotFound`, raised by the adapters from an HTTP 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from shipit.adapters.docker import Docker
    from shipit.adapters.gcp.artifacts import Repository
    from shipit.adapters.gcp.clients import GcpClients
    from shipit.adapters.gcp.cloudbuild import CloudBuilds
    from shipit.adapters.gcp.jobs import ExecutionState, JobState
    from shipit.adapters.gcp.logging import LogPage
    from shipit.adapters.gcp.run import WriteResult
    from shipit.adapters.gcp.secrets import CurrentValue, Replication, SecretMeta, VersionMeta
    from shipit.adapters.gcp.storage import Bucket
    from shipit.adapters.health import HealthChecker
    from shipit.adapters.registry import RegistryClient
    from shipit.adapters.terraform import TerraformFactory
    from shipit.config import Target

Json = dict[str, Any]
# The user name Artifact Registry expects with an OAuth access token as the password.
REGISTRY_USER = "oauth2accesstoken"


class RunApi(Protocol):
    """Cloud Run services, revisions and their IAM policies: :class:`shipit.adapters.gcp.run.CloudRunClient`."""

    def normalize(self, body: Json) -> Json: ...
    def get_service(self, name: str) -> Json | None: ...
    def list_services(self, parent: str) -> list[Json]: ...
    def list_revisions(self, service: str) -> list[Json]: ...
    def get_revision(self, name: str) -> Json | None: ...
    def get_iam_policy(self, resource: str) -> Json: ...
    def set_iam_policy(self, resource: str, policy: Json) -> Json: ...
    def create_service(self, parent: str, service_id: str, body: Json) -> WriteResult: ...
    def update_service(self, body: Json) -> WriteResult: ...
    def delete_service(self, name: str) -> bool: ...
    # A revision that serves no traffic and no tag (previews); Cloud Run refuses the latest one.
    def delete_revision(self, name: str) -> None: ...


class JobsApi(Protocol):
    """Cloud Run jobs and executions: :class:`shipit.adapters.gcp.jobs.CloudRunJobs`."""

    def normalize(self, spec: Json) -> Json: ...
    def get_job(self, name: str) -> JobState | None: ...
    def get_execution(self, name: str) -> ExecutionState | None: ...
    def create_job(self, parent: str, job_id: str, spec: Json) -> JobState: ...
    def update_job(self, name: str, spec: Json, etag: str) -> JobState: ...
    def list_jobs(self, parent: str) -> list[Json]: ...
    def delete_job(self, name: str) -> bool: ...
    def run_job(self, name: str, etag: str | None = None) -> ExecutionState: ...
    def wait(self, execution: str, timeout: float) -> ExecutionState: ...
    # A scheduled job's policy: the scheduler's account may run that job, and only that one.
    def get_iam_policy(self, resource: str) -> Json: ...
    def set_iam_policy(self, resource: str, policy: Json) -> Json: ...


class SecretsApi(Protocol):
    """Secret Manager secrets of one project: :class:`shipit.adapters.gcp.secrets.SecretStore`."""

    def list_secrets(self, label_filter: Mapping[str, str] | None = None) -> list[SecretMeta]: ...
    def get_secret(self, secret_id: str) -> SecretMeta | None: ...
    def list_versions(self, secret_id: str) -> list[VersionMeta] | None: ...
    def current(self, secret_id: str) -> CurrentValue | None: ...
    def create_secret(self, secret_id: str, labels: Mapping[str, str], replication: Replication) -> SecretMeta: ...
    def add_version(self, secret_id: str, data: bytes, *, after: int) -> int: ...
    def delete_secret(self, secret_id: str, *, etag: str = "") -> None: ...
    # Who may read a secret: a preview's own DATABASE_URL gets the accessors of the base one.
    def accessors(self, secret_id: str) -> list[str]: ...
    def grant_access(self, secret_id: str, members: list[str]) -> None: ...


class SqlDatabasesApi(Protocol):
    """The databases of an existing Cloud SQL instance: :class:`shipit.adapters.gcp.sqladmin.CloudSqlDatabases`."""

    def get_database(self, project: str, instance: str, name: str) -> Json | None: ...
    def list_databases(self, project: str, instance: str) -> list[str]: ...
    def insert_database(self, project: str, instance: str, name: str) -> bool: ...
    def delete_database(self, project: str, instance: str, name: str) -> bool: ...


class Repositories(Protocol):
    """Artifact Registry repositories: :class:`shipit.adapters.gcp.artifacts.ArtifactRegistry`."""

    def get_repository(self, name: str) -> Repository | None: ...
    def create_docker_repository(self, name: str, *, labels: Mapping[str, str], description: str) -> Repository: ...
    def delete_repository(self, name: str) -> bool: ...


class WorkerPoolsApi(Protocol):
    """Cloud Run worker pools: :class:`shipit.adapters.gcp.workerpools.WorkerPoolClient`."""

    def normalize(self, body: Json) -> Json: ...
    def get_worker_pool(self, name: str) -> Json | None: ...
    def list_worker_pools(self, parent: str) -> list[Json]: ...
    def list_revisions(self, pool: str) -> list[Json]: ...
    def create_worker_pool(self, parent: str, pool_id: str, body: Json) -> WriteResult: ...
    def update_worker_pool(self, body: Json) -> WriteResult: ...
    def delete_worker_pool(self, name: str) -> bool: ...


class LogsApi(Protocol):
    """Cloud Logging reads: :class:`shipit.adapters.gcp.logging.LogEntries`."""

    def list(
        self, project: str, log_filter: str, *, newest_first: bool, page_size: int, page_token: str | None = None
    ) -> LogPage: ...


class Buckets(Protocol):
    """Cloud Storage buckets (Terraform state): :class:`shipit.adapters.gcp.storage.StateBuckets`."""

    def get(self, name: str) -> Bucket | None: ...
    def create(self, name: str, *, project: str, location: str, labels: dict[str, str]) -> Bucket: ...
    def enable_versioning(self, name: str) -> Bucket: ...


class Remote:
    """Typed, lazily built clients for one target. Keyword arguments replace a client (tests, offline)."""

    def __init__(
        self,
        target: Target | None = None,
        *,
        gcp: GcpClients | None = None,
        run: RunApi | None = None,
        jobs: JobsApi | None = None,
        worker_pools: WorkerPoolsApi | None = None,
        secrets: SecretsApi | None = None,
        artifacts: Repositories | None = None,
        storage: Buckets | None = None,
        logs: LogsApi | None = None,
        registry: RegistryClient | None = None,
        docker: Docker | None = None,
        terraform: TerraformFactory | None = None,
        health: HealthChecker | None = None,
        cloud_builds: CloudBuilds | None = None,
        sql: SqlDatabasesApi | None = None,
    ) -> None:
        self._target = target
        self._given: dict[str, Any] = {
            "gcp": gcp,
            "run": run,
            "jobs": jobs,
            "worker_pools": worker_pools,
            "secrets": secrets,
            "artifacts": artifacts,
            "storage": storage,
            "logs": logs,
            "registry": registry,
            "docker": docker,
            "terraform": terraform,
            "health": health,
            "cloud_builds": cloud_builds,
            "sql": sql,
        }

    def for_target(self, target: Target) -> Remote:
        """This boundary bound to ``target`` (project, registry host), keeping every client given."""
        if self._target is target:
            return self
        bound = Remote(target)
        bound._given = dict(self._given)
        return bound

    @property
    def target(self) -> Target:
        if self._target is None:
            raise RuntimeError("Remote is not bound to a target (pass it to a StepContext)")
        return self._target

    @cached_property
    def gcp(self) -> GcpClients:
        """The raw google-cloud-* clients (REST transport); only adapters use them."""
        given: GcpClients | None = self._given["gcp"]
        if given is not None:
            return given
        from shipit.adapters.gcp.clients import GcpClients

        return GcpClients()

    @cached_property
    def run(self) -> RunApi:
        given: RunApi | None = self._given["run"]
        if given is not None:
            return given
        from shipit.adapters.gcp.run import CloudRunClient

        return CloudRunClient(self.gcp)

    @cached_property
    def jobs(self) -> JobsApi:
        given: JobsApi | None = self._given["jobs"]
        if given is not None:
            return given
        from shipit.adapters.gcp.jobs import CloudRunJobs

        return CloudRunJobs(self.gcp)

    @cached_property
    def worker_pools(self) -> WorkerPoolsApi:
        given: WorkerPoolsApi | None = self._given["worker_pools"]
        if given is not None:
            return given
        from shipit.adapters.gcp.workerpools import WorkerPoolClient

        return WorkerPoolClient(self.gcp)

    @cached_property
    def secrets(self) -> SecretsApi:
        given: SecretsApi | None = self._given["secrets"]
        if given is not None:
            return given
        from shipit.adapters.gcp.secrets import SecretStore

        target = self.target
        return SecretStore(self.gcp.secret_manager, target.project, pool_size=target.config.secrets.concurrency)

    @cached_property
    def sql(self) -> SqlDatabasesApi:
        given: SqlDatabasesApi | None = self._given["sql"]
        if given is not None:
            return given
        from shipit.adapters.gcp.sqladmin import CloudSqlDatabases

        return CloudSqlDatabases()

    @cached_property
    def artifacts(self) -> Repositories:
        given: Repositories | None = self._given["artifacts"]
        if given is not None:
            return given
        from shipit.adapters.gcp.artifacts import ArtifactRegistry

        return ArtifactRegistry(self.gcp.artifact_registry)

    @cached_property
    def storage(self) -> Buckets:
        given: Buckets | None = self._given["storage"]
        if given is not None:
            return given
        from shipit.adapters.gcp.storage import StateBuckets

        return StateBuckets()

    @cached_property
    def logs(self) -> LogsApi:
        given: LogsApi | None = self._given["logs"]
        if given is not None:
            return given
        from shipit.adapters.gcp.logging import LogEntries

        return LogEntries()

    @property
    def registry(self) -> RegistryClient:
        """A client of the target's registry host. Not cached: it holds the access token of this moment,
        and a push may start long after planning (builds in between)."""
        given: RegistryClient | None = self._given["registry"]
        if given is not None:
            return given
        from shipit.adapters.gcp.auth import access_token
        from shipit.adapters.registry import Credentials, RegistryClient

        return RegistryClient(self.target.registry_host, Credentials(REGISTRY_USER, access_token()))

    @cached_property
    def docker(self) -> Docker:
        given: Docker | None = self._given["docker"]
        if given is not None:
            return given
        from shipit.adapters.docker import Docker

        return Docker()

    def cloud_builds(self, region: str) -> CloudBuilds:
        """Cloud Build in ``region`` and the staging bucket (remote builds)."""
        given: CloudBuilds | None = self._given["cloud_builds"]
        if given is not None:
            return given
        from shipit.adapters.gcp.cloudbuild import CloudBuilds

        return CloudBuilds(self.target.project, region)

    @cached_property
    def terraform(self) -> TerraformFactory:
        given: TerraformFactory | None = self._given["terraform"]
        if given is not None:
            return given
        from shipit.adapters.terraform import default_terraform

        return default_terraform()

    @cached_property
    def health(self) -> HealthChecker:
        """Checks a deployed URL (staged rollouts, the verify step)."""
        given: HealthChecker | None = self._given["health"]
        if given is not None:
            return given
        from shipit.adapters.health import http_health_check

        return http_health_check
