"""VPC access of a Cloud Run workload (a service, a worker pool or a job): shared by their models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Vpc(BaseModel):
    """How the workload reaches private IPs (Cloud SQL): a Serverless VPC Access connector or Direct VPC egress."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    mode: Literal["connector", "direct"] = "connector"
    egress: Literal["private-ranges-only", "all-traffic"] = "private-ranges-only"
