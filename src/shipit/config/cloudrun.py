"""Cloud Run models beyond the basics: probes, sidecars, volumes and service-level settings.

Each key maps to a `gcloud run deploy` flag and a Cloud Run Admin API v2 field
(docs/gcloud-equivalence.md). Cross-field rules (probe windows, reserved paths) live in
config/cloudrun_checks.py so that every problem is reported with its file:line.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shipit.config.build import Build
from shipit.config.types import Command, Cpu, EnvValue, EnvVarName, Int, Memory, Seconds, SecretKey

# A container or volume name as Cloud Run accepts it (a DNS label).
ContainerName = Annotated[str, StringConstraints(pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Probe(_Model):
    """A health probe. Cloud Run's limits per kind (startup, liveness, readiness) are checked by `validate`."""

    type: Literal["http", "tcp", "grpc"] = "http"
    path: str = Field("/", pattern=r"^/", description="HTTP path for http probes.")
    port: Int | None = Field(None, ge=1, le=65535, description="Defaults to the service port.")
    service: str | None = Field(None, description="gRPC health service name for grpc probes.")
    initial_delay: Seconds = Field(0, ge=0, le=3600)
    period: Seconds = Field(10, ge=1, le=3600)
    timeout: Seconds = Field(1, ge=1, le=3600, description="At most period.")
    failure_threshold: Int = Field(3, ge=1)


class Probes(_Model):
    startup: Probe | None = Field(None, description="Default: Cloud Run's TCP probe on the port.")
    liveness: Probe | None = None
    readiness: Probe | None = Field(None, description="An http readiness path is also what `verify` checks.")


class GcsVolume(_Model):
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
    read_only: bool = False
    mount_options: tuple[str, ...] = Field((), description="Cloud Storage FUSE flags, e.g. implicit-dirs.")


class NfsVolume(_Model):
    server: str = Field(description="NFS server IP or host name (reached through VPC access).")
    path: str = Field("/", pattern=r"^/")
    read_only: bool = False


class EmptyDirVolume(_Model):
    size_limit: str | None = Field(
        None, pattern=r"^[0-9]+(Ki|Mi|Gi)$", description="e.g. 256Mi; counts against the instance's memory."
    )


class Volume(_Model):
    """One volume: exactly one of gcs, nfs, empty_dir. `mount` mounts it into the service's own container."""

    gcs: GcsVolume | None = None
    nfs: NfsVolume | None = None
    empty_dir: EmptyDirVolume | None = None
    mount: str | None = Field(None, pattern=r"^/", description="Mount path in the service's container.")

    @model_validator(mode="after")
    def _one_source(self) -> Volume:
        if sum(x is not None for x in (self.gcs, self.nfs, self.empty_dir)) != 1:
            raise ValueError("give exactly one of gcs, nfs, empty_dir")
        return self


class Sidecar(_Model):
    """A container next to the service's (ingress) container; it has no port and receives no requests."""

    image: str | None = Field(None, description="Image reference, pinned by digest where possible.")
    build: Build | None = Field(
        None, description="Built, content-tagged and pushed like a service image (as SERVICE.SIDECAR); or image."
    )
    command: Command | None = Field(None, description="Overrides the image ENTRYPOINT.")
    args: Command | None = Field(None, description="Overrides the image CMD.")
    env: dict[EnvVarName, EnvValue] = Field(default_factory=dict, description="Plain variables.")
    secrets: tuple[SecretKey, ...] = Field((), description="Keys from the env file / Secret Manager.")
    cpu: Cpu | None = Field(None, description="Default: Cloud Run's default for the container.")
    memory: Memory | None = None
    depends_on: tuple[ContainerName, ...] = Field(
        (), description="Containers (sidecar names, or the service name) that must pass their startup probe first."
    )
    mounts: dict[str, str] = Field(
        default_factory=dict,
        description="Volume name -> mount path in this container; `cloudsql` is the Cloud SQL socket volume.",
    )
    startup_probe: Probe | None = None
    liveness_probe: Probe | None = None

    @model_validator(mode="after")
    def _one_image(self) -> Sidecar:
        if (self.image is None) == (self.build is None):
            raise ValueError("give exactly one of image, build")
        return self


class ServiceScaling(_Model):
    """Service-level scaling: applies to all revisions together and creates no new revision."""

    min_instances: Int | None = Field(None, ge=0, le=1000)
    max_instances: Int | None = Field(None, ge=1, le=1000)
    manual_instances: Int | None = Field(
        None, ge=0, le=1000, description="Manual scaling: exactly this many instances, no autoscaling."
    )
