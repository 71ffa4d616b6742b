"""The ``deploy:`` section of an environment: how fast a release may write to the Cloud Run Admin API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shipit.pacing import DEFAULT_WRITE_RATE_PER_MINUTE


class DeployPacing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    write_rate_per_minute: int = Field(
        DEFAULT_WRITE_RATE_PER_MINUTE,
        ge=2,
        le=100_000,
        description=(
            "Cloud Run Admin API writes (create/replace a service, worker pool or job, set an IAM policy) per "
            f"minute in this environment's region, for every deploy thread together. Default "
            f"{DEFAULT_WRITE_RATE_PER_MINUTE}: Google's default 'Write requests per minute per region' quota. "
            "Raise it only after raising the quota; `--write-rate` overrides it for one run."
        ),
    )
