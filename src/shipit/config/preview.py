"""The ``preview:`` section of an environment: how `shipit deploy --preview NAME` treats its database."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PreviewSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    database: Literal["shared", "branch"] = Field(
        "shared",
        description=(
            "shared: a preview uses the environment's databases and never runs migrations. "
            "branch: each preview gets its own database DB_PREVIEW on the environment's Cloud SQL instance, "
            "its own DATABASE_URL secret, and its migrations run against it; `shipit preview delete` drops it."
        ),
    )
