"""Cloud Run jobs in shipit.yaml: batch work run on demand (`shipit jobs run`) or on a Cloud Scheduler cron."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shipit.config.types import (
    Command,
    Cpu,
    EnvValue,
    EnvVarName,
    Memory,
    ResourceName,
    Seconds,
    SecretKey,
    ServiceName,
)
from shipit.config.vpc import Vpc


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Job(_Model):
    """A Cloud Run job: one or more tasks that run to completion."""

    service: ServiceName | None = Field(
        None, description="Run the image this service builds (and as its service account)."
    )
    image: str | None = Field(None, description="A prebuilt image instead of a service's.")
    command: Command | None = Field(None, description="Overrides the image ENTRYPOINT.")
    args: Command | None = Field(None, description="Overrides the image CMD.")
    env: dict[EnvVarName, EnvValue] = Field(default_factory=dict, description="Plain variables.")
    secrets: tuple[SecretKey, ...] = Field((), description="Keys from the env file / Secret Manager.")
    databases: tuple[ResourceName, ...] = Field((), description="Databases the job uses; injects DATABASE_URL.")
    caches: tuple[ResourceName, ...] = Field(
        (), description="Caches the job uses; injects REDIS_URL and REDIS_CA_CERT."
    )
    tasks: int = Field(1, ge=1, le=10000, description="Tasks per execution (CLOUD_RUN_TASK_INDEX tells them apart).")
    parallelism: int = Field(0, ge=0, le=10000, description="Tasks running at once; 0: as many as possible.")
    max_retries: int = Field(3, ge=0, le=10, description="Retries of a failed task (tasks must be idempotent).")
    timeout: Seconds = Field(600, ge=1, le=604800, description="Per-task timeout, e.g. 10m.")
    cpu: Cpu = "1"
    memory: Memory = "512Mi"
    vpc: Vpc | None = Field(
        None, description="Defaults to a connector when the job uses a database; mode: direct for Direct VPC egress."
    )
    schedule: str | None = Field(
        None,
        pattern=r"^\S+( \S+){4}$",
        description="Unix cron, e.g. '0 3 * * *': a Cloud Scheduler job (in the generated Terraform) runs it.",
    )
    time_zone: str = Field("Etc/UTC", description="IANA time zone of the schedule, e.g. Europe/Paris.")
