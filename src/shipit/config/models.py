"""The typed model of shipit.yaml. Frozen: nothing past the loader handles raw dicts.

Field docstrings become descriptions in the published JSON Schema, so editors show them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shipit.concurrency import API_CONCURRENCY
from shipit.config.build import Build
from shipit.config.buildengine import BuildSettings
from shipit.config.caches import Cache
from shipit.config.ci import Ci
from shipit.config.cloudrun import ContainerName, Probes, ServiceScaling, Sidecar, Volume
from shipit.config.database_engines import ENGINES
from shipit.config.deploy import DeployPacing
from shipit.config.generated_values import BucketName, ImageRef, RegistryHost
from shipit.config.jobs import Job
from shipit.config.multiregion import DOMAIN_PATTERN, Armor, fill_region
from shipit.config.preview import PreviewSettings
from shipit.config.types import (
    AppName,
    Command,
    Cpu,
    EnvironmentName,
    EnvValue,
    EnvVarName,
    Int,
    LabelKey,
    LabelValue,
    Memory,
    NonEmptyCommand,
    ProjectId,
    PubSubName,
    Region,
    ResourceName,
    Seconds,
    SecretKey,
    ServiceName,
)
from shipit.config.vpc import Vpc


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CloudRun(Model):
    """Cloud Run settings; each maps to a `gcloud run deploy` flag (docs/gcloud-equivalence.md)."""

    cpu: Cpu = "1"
    memory: Memory = "512Mi"
    min_instances: Int = Field(0, ge=0, le=1000)
    max_instances: Int = Field(100, ge=1, le=1000)
    concurrency: Int = Field(80, ge=1, le=1000)
    timeout: Seconds = Field(300, ge=1, le=3600, description="Request timeout, e.g. 300s or 5m.")
    ingress: Literal["all", "internal", "internal-and-cloud-load-balancing"] = "all"
    allow_unauthenticated: bool = False
    service_account: str | None = Field(
        None,
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]*\.iam\.gserviceaccount\.com$",
        description="Defaults to the per-service account that `shipit infra` creates.",
    )
    cpu_idle: bool = Field(True, description="True: CPU only during requests (throttled); false: always allocated.")
    startup_cpu_boost: bool | None = Field(
        None, description="Startup CPU boost. Unset: on for a new service (as gcloud run deploy), else kept as live."
    )
    http2: bool = Field(False, description="End-to-end HTTP/2 (h2c): the port is named h2c instead of http1.")
    description: str | None = Field(None, max_length=512, description="The service's description.")
    scaling: ServiceScaling = Field(
        default_factory=ServiceScaling, description="Service-level scaling (no new revision when it changes)."
    )
    iap: bool = Field(False, description="Cloud Run's built-in Identity-Aware Proxy in front of the service.")
    invoker_iam_disabled: bool = Field(False, description="Skip the run.invoker IAM check (public without IAM).")
    default_uri_disabled: bool = Field(False, description="Disable the default run.app URL.")
    custom_audiences: tuple[str, ...] = Field((), description="Extra audiences accepted in ID tokens.")
    depends_on: tuple[ContainerName, ...] = Field(
        (), description="Sidecars that must pass their startup probe before the service's container starts."
    )
    session_affinity: bool = Field(False, description="Sticky sessions, e.g. for websockets.")
    execution_environment: Literal["gen1", "gen2"] | None = None
    vpc: Vpc | None = Field(None, description="Defaults to a connector when the service uses a database.")
    probes: Probes = Field(default_factory=Probes)
    command: Command | None = Field(None, description="Overrides the image ENTRYPOINT.")
    args: Command | None = Field(None, description="Overrides the image CMD.")
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    instances: int | None = Field(
        None, ge=0, le=1000, description="Workers only: the fixed number of instances of the worker pool (default 1)."
    )


class Local(Model):
    """How `shipit local` runs the service on a laptop."""

    target: str | None = Field(None, description="Build target for development, e.g. a dev stage.")
    command: Command | None = Field(None, description="Command for compose, or the process for --runtime native.")
    ports: tuple[str, ...] = Field((), description="Published ports, HOST:CONTAINER (default PORT:PORT).")
    volumes: tuple[str, ...] = Field((), description="Bind mounts for live reload, e.g. ./backend:/app.")
    env: dict[EnvVarName, EnvValue] = Field(default_factory=dict, description="Extra variables, local only.")
    workdir: str | None = Field(None, description="Working directory for --runtime native.")


class Health(Model):
    path: str | None = Field("/", pattern=r"^/", description="Path checked after deploy; null to skip.")
    timeout: Seconds = Field(60, ge=1, le=600)


class Service(Model):
    """A frontend, backend or worker: one Cloud Run service and one compose service."""

    kind: Literal["service", "worker"] = Field(
        "service",
        description="service: an HTTP service on Cloud Run; worker: a background process with no port "
        "(a Cloud Run worker pool).",
    )
    build: Build | None = Field(default_factory=Build)
    image: ImageRef | None = Field(None, description="A prebuilt image instead of build.")
    port: Int = Field(8080, ge=1, le=65535)
    env: dict[EnvVarName, EnvValue] = Field(
        default_factory=dict, description="Plain variables; values may use ${services.X.url} and other references."
    )
    secrets: tuple[SecretKey, ...] = Field((), description="Keys from the env file / Secret Manager.")
    secret_files: dict[str, SecretKey] = Field(
        default_factory=dict, description="Secrets mounted as files: {'/secrets/key.json': KEY} (not on a worker)."
    )
    databases: tuple[ResourceName, ...] = Field((), description="Databases this service uses; injects DATABASE_URL.")
    caches: tuple[ResourceName, ...] = Field(
        (), description="Caches (Redis) this service uses; injects REDIS_URL (and REDIS_CA_CERT in the cloud)."
    )
    sidecars: dict[ContainerName, Sidecar] = Field(
        default_factory=dict, description="More containers in each instance (no port; share localhost)."
    )
    volumes: dict[ContainerName, Volume] = Field(
        default_factory=dict, description="Cloud Storage, NFS or in-memory volumes, by name."
    )
    health: Health = Field(default_factory=Health)
    cloud_run: CloudRun = Field(default_factory=CloudRun)
    regions: tuple[Region, ...] | None = Field(
        None, min_length=1, description="Regions of this service (default: the environment's regions)."
    )
    local: Local = Field(default_factory=Local)


class Migrate(Model):
    command: NonEmptyCommand
    service: ServiceName | None = Field(None, description="Whose image and env run it (default: the only user).")
    timeout: Seconds = Field(600, ge=1, le=86400)


class Database(Model):
    """A Cloud SQL instance (Postgres or MySQL) on a private IP (the same engine in a container locally)."""

    engine: Literal["postgres", "mysql"] = Field("postgres", description="postgres or mysql (Cloud SQL for MySQL).")
    version: Literal["13", "14", "15", "16", "17", "8.0", "8.4"] = Field(
        "16", description="Major version, quoted: postgres 13-17 (default 16); mysql 8.0 or 8.4 (default 8.4)."
    )
    tier: str = Field("db-f1-micro", pattern=r"^db-(f1-micro|g1-small|custom-[0-9]+-[0-9]+|perf-optimized-N-[0-9]+)$")
    disk_gb: Int = Field(10, ge=10, le=65536, description="Disk size at creation; then disk_autoresize grows it.")
    disk_autoresize: bool = True
    availability: Literal["zonal", "regional"] = "zonal"
    backups: bool = True
    point_in_time_recovery: bool = True
    deletion_protection: bool | None = Field(None, description="Default: on in production environments.")
    name: str | None = Field(None, pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="Database name (default: key).")
    user: str | None = Field(None, pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="User (default: app).")
    env_var: EnvVarName = Field("DATABASE_URL", description="Variable that carries the connection URL.")
    migrate: Migrate | None = None

    @model_validator(mode="before")
    @classmethod
    def _engine_default_version(cls, data: Any) -> Any:
        # The default version depends on the engine; an explicit one is checked against it in checks.py.
        if isinstance(data, dict) and data.get("version") is None and data.get("engine") in ENGINES:
            return {**data, "version": ENGINES[data["engine"]].default_version}
        return data


class Topic(Model):
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)


class Push(Model):
    service: ServiceName
    path: str = Field("/", pattern=r"^/")


class Pull(Model):
    service: ServiceName = Field(description="The worker (kind: worker) that consumes the subscription.")


class Subscription(Model):
    topic: PubSubName
    push: Push | None = Field(None, description="Deliver to a service (OIDC-authenticated); pull when absent.")
    pull: Pull | None = Field(None, description="A worker that pulls from it (gets roles/pubsub.subscriber on it).")
    ack_deadline: Seconds = Field(10, ge=10, le=600)


class PubSub(Model):
    topics: dict[PubSubName, Topic] = Field(default_factory=dict)
    subscriptions: dict[PubSubName, Subscription] = Field(default_factory=dict)


class Replication(Model):
    automatic: bool = True
    locations: tuple[Region, ...] = ()


class Secrets(Model):
    env_file: str = Field(".env", description="Where local secret values live; per environment overridable.")
    naming: str = Field("{app}-{env}-{key}", description="Secret Manager id pattern: {app}, {env}, {key}.")
    extra: tuple[SecretKey, ...] = Field((), description="Keys to sync that no service declares.")
    replication: Replication = Field(default_factory=Replication)
    concurrency: Int = Field(
        API_CONCURRENCY, ge=1, le=64, description="Parallel Secret Manager calls (writes stay under 600/min)."
    )
    allow_outside_project: bool = Field(
        False, description="Allow env_file outside the project directory (resolved, symlinks included)."
    )


class Registry(Model):
    repository: ResourceName | None = Field(None, description="Artifact Registry repository (default: app).")
    location: Region | None = Field(None, description="Default: the environment's region.")
    host: RegistryHost | None = Field(None, description="Docker host override (default LOCATION-docker.pkg.dev).")


class Infra(Model):
    dir: str = Field("infra", description="Where the generated Terraform lives.")
    enabled: bool | None = Field(
        None,
        description="Terraform owns the image repository and the secret containers (shipit never creates them). "
        "Default: each is Terraform's once the environment's Terraform root exists and the Terraform in "
        "infra.dir declares it (the generated module does).",
    )
    backend: Literal["gcs", "local"] = "gcs"
    bucket: BucketName | None = Field(None, description="State bucket (default PROJECT-shipit-tfstate).")
    connector_cidr: str = Field("10.8.0.0/28", pattern=r"^\d+\.\d+\.\d+\.\d+/28$")
    subnet_cidr: str = Field("10.10.0.0/24", pattern=r"^\d+\.\d+\.\d+\.\d+/\d+$")
    allow_outside_project: bool = Field(
        False, description="Allow dir outside the project directory (resolved, symlinks included)."
    )


class TestStep(Model):
    command: NonEmptyCommand
    secrets: tuple[SecretKey, ...] = Field((), description="Keys the tests need; CI reads them from Secret Manager.")


class EnvSecrets(Model):
    env_file: str | None = None
    allow_outside_project: bool = Field(
        False, description="Allow env_file outside the project directory (resolved, symlinks included)."
    )


class Environment(Model):
    """A deployment target. `services`, `databases`, `caches`, `registry` and `infra` are deep-merged overlays."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        json_schema_extra={"anyOf": [{"required": ["region"]}, {"required": ["regions"]}]},
    )

    project: ProjectId
    region: Region = Field("", description="The region (the primary one with regions). Required unless regions is set.")
    regions: tuple[Region, ...] | None = Field(
        None, min_length=1, description="Deploy each service in every region; the first is the primary."
    )
    domain: str | None = Field(
        None,
        pattern=DOMAIN_PATTERN,
        max_length=253,
        description="A global load balancer with a managed certificate for it.",
    )
    routes: dict[str, ServiceName] = Field(
        default_factory=dict,
        description="Load balancer paths to services, e.g. {'/*': web, '/api/*': api} ('/*' is the default).",
    )
    armor: Armor | None = Field(None, description="Cloud Armor on the load balancer.")
    cloud_armor: bool = Field(False, description="Cloud Armor with the default policy (WAF rules + rate limit).")
    production: bool | None = Field(None, description="Default: true for environments named prod/production.")
    protected: bool | None = Field(
        None,
        description="`shipit destroy` needs --allow-protected. Default: true for production environments and "
        "for environments named prod/production/prd.",
    )
    secrets: EnvSecrets = Field(default_factory=EnvSecrets)
    deploy: DeployPacing = Field(default_factory=DeployPacing, description="Pacing of the release's API writes.")
    services: dict[str, dict[str, Any]] = Field(default_factory=dict)
    databases: dict[str, dict[str, Any]] = Field(default_factory=dict)
    caches: dict[str, dict[str, Any]] = Field(default_factory=dict)
    registry: dict[str, Any] = Field(default_factory=dict)
    infra: dict[str, Any] = Field(default_factory=dict)
    build: dict[str, Any] = Field(default_factory=dict)
    preview: PreviewSettings = Field(
        default_factory=PreviewSettings, description="`shipit deploy --preview NAME` in this environment."
    )

    @model_validator(mode="before")
    @classmethod
    def _region_from_regions(cls, data: Any) -> Any:
        data = fill_region(data)
        if isinstance(data, dict) and not data.get("region"):
            raise ValueError("needs region (or regions)")
        return data

    def is_production(self, name: str) -> bool:
        return self.production if self.production is not None else name in ("prod", "production")

    def is_protected(self, name: str) -> bool:
        if self.protected is not None:
            return self.protected
        return self.is_production(name) or name in PROTECTED_NAMES


# Environments protected from `shipit destroy` unless `protected: false` says otherwise.
PROTECTED_NAMES = ("prod", "production", "prd")


class ShipitConfig(Model):
    """shipit.yaml."""

    version: Literal[1] = Field(description="Schema version; always 1.")
    app: AppName
    default_environment: EnvironmentName | None = None
    environments: dict[EnvironmentName, Environment] = Field(min_length=1)
    registry: Registry = Field(default_factory=Registry)
    secrets: Secrets = Field(default_factory=Secrets)
    databases: dict[ResourceName, Database] = Field(default_factory=dict)
    caches: dict[ResourceName, Cache] = Field(
        default_factory=dict, description="Memorystore for Redis instances (a Redis server locally)."
    )
    services: dict[ServiceName, Service] = Field(min_length=1)
    pubsub: PubSub | None = None
    jobs: dict[ResourceName, Job] = Field(
        default_factory=dict, description="Cloud Run jobs, run on demand or on a schedule."
    )
    infra: Infra = Field(default_factory=Infra)
    build: BuildSettings = Field(default_factory=BuildSettings, description="Where production images are built.")
    test: TestStep | None = Field(None, description="Run before a deploy, e.g. {command: pytest}.")
    ci: Ci = Field(default_factory=Ci, description="How the pipelines `shipit ci generate` writes install shipit.")


# Sections of an environment that overlay the top level of the same name.
OVERLAY_SECTIONS = ("services", "databases", "caches", "registry", "infra", "build")
