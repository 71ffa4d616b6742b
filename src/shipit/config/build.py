"""How shipit builds an image (a service's, or a sidecar's): shared by their models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shipit.config.buildengine import Engine
from shipit.config.types import EnvValue, EnvVarName, SecretKey


class Build(BaseModel):
    """How to build the service's production image."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    context: str = Field(".", description="Build context directory, relative to shipit.yaml.")
    dockerfile: str | None = Field(None, description="Dockerfile path relative to the context (default Dockerfile).")
    target: str | None = Field(None, description="Multi-stage build target for the production image.")
    args: dict[EnvVarName, EnvValue] = Field(default_factory=dict, description="Build arguments (never secrets).")
    secrets: tuple[SecretKey, ...] = Field(
        (), description="Keys of the env file passed as BuildKit build secrets (--secret id=KEY), never as args."
    )
    platform: str = Field("linux/amd64", pattern=r"^linux/(amd64|arm64)$", description="Cloud Run runs linux/amd64.")
    allow_outside_project: bool = Field(
        False, description="Allow context and dockerfile outside the project directory (resolved, symlinks included)."
    )
    engine: Engine | None = Field(
        None, description="Build this service locally or on Cloud Build (default: build.engine)."
    )
    watch: tuple[str, ...] = Field(
        (),
        description="More paths (relative to shipit.yaml) whose changes affect this service, e.g. a shared "
        "library outside its context: `shipit plan --changed-since REF` lists the service when they change.",
    )
