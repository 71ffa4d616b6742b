"""The ``preview:`` section of an environment: how `shipit deploy --preview NAME` treats its database."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class PreviewSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    database: Literal["shared", "branch"] = Field(
        "shared",
        description=(
            "shared: a preview uses the environment's databases and never runs migrations. "
            "branch (a database per preview on the same Cloud SQL instance) is not supported yet."
        ),
    )

    @field_validator("database")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value == "branch":
            raise ValueError(
                "'branch' (a database per preview) is not supported yet; use 'shared' (no migrations, "
                "the environment's database)"
            )
        return value
