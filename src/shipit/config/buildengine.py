"""Where production images are built: the local Docker engine, or Cloud Build (the `build` section).

The section is top-level with a per-environment overlay (`environments.X.build`), and a service can pick
its own engine (`services.X.build.engine`); `shipit build|deploy --engine` overrides both.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shipit.config.generated_values import BucketName
from shipit.config.types import Int, Region

Engine = Literal["local", "cloudbuild"]
ENGINES: tuple[Engine, ...] = ("local", "cloudbuild")
DEFAULT_BUILD_CONCURRENCY = 4


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CloudBuild(_Model):
    """Options of remote builds on Cloud Build (regional endpoint)."""

    region: Region | None = Field(None, description="Where builds run (default: the environment's region).")
    pool: str | None = Field(
        None,
        pattern=r"^(projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/[a-z]+-[a-z]+[0-9]{1,2}/workerPools/)?"
        r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?$",
        description="Private pool: its id (in the build region) or full name projects/P/locations/R/workerPools/ID.",
    )
    machine_type: (
        Literal["UNSPECIFIED", "N1_HIGHCPU_8", "N1_HIGHCPU_32", "E2_HIGHCPU_8", "E2_HIGHCPU_32", "E2_MEDIUM"] | None
    ) = Field(None, description="Machine of the default pool (not with `pool`: a private pool sets its own).")
    timeout: Int = Field(1200, ge=60, le=86400, description="Seconds before Cloud Build stops a build (TIMEOUT).")
    bucket: BucketName | None = Field(
        None,
        description="Staging bucket for sources and logs (default PROJECT-shipit-builds; the generated Terraform "
        "declares it).",
    )
    service_account: str | None = Field(
        None,
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$",
        description="Account builds run as (default shipit-build@PROJECT.iam.gserviceaccount.com, least privilege: "
        "the generated Terraform declares it).",
    )


class BuildSettings(_Model):
    """How production images are built."""

    engine: Engine = Field("local", description="local (the Docker engine here) or cloudbuild (remote builds).")
    concurrency: Int = Field(
        DEFAULT_BUILD_CONCURRENCY,
        ge=1,
        le=32,
        description="Remote builds running at once (a private pool may allow more).",
    )
    cloudbuild: CloudBuild = Field(default_factory=CloudBuild)
