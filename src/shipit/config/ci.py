"""The ``ci:`` section of shipit.yaml: how the pipelines `shipit ci generate` writes install shipit."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

# pip requirement forms that name exactly one build of shipit.
_VCS = re.compile(r"^(shipit\s*@\s*)?git\+(https|ssh)://[^\s@]+(@[^\s@]+)?@[\w.\-/]+$")
_ARCHIVE = re.compile(r"^(shipit\s*@\s*)?https://\S+#sha256=[0-9a-f]{64}$")
_LOCAL = re.compile(r"^(/|\./|\.\./|file://)\S*$")

INSTALL_HINT = (
    "a git URL at a tag or commit (git+https://github.com/ORG/shipit@v1.2.0), a wheel or sdist URL with its "
    "hash (https://.../shipit-1.2.0-py3-none-any.whl#sha256=...), or a local path"
)


class Ci(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    install: str | None = Field(
        None,
        description=(
            "pip requirement the generated pipelines install shipit from: " + INSTALL_HINT + ". "
            "Default: derived from how the running shipit was installed."
        ),
    )

    previews: bool = Field(
        False,
        description=(
            "`shipit ci generate --provider github` also writes a pull-request workflow: a preview per pull "
            "request (`shipit deploy --preview pr-N`), its URLs posted as a comment, deleted when it closes."
        ),
    )

    @field_validator("install")
    @classmethod
    def _pinned(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if _VCS.match(value) or _ARCHIVE.match(value) or _LOCAL.match(value):
            return value
        raise ValueError(f"{value!r} does not pin one build of shipit; use {INSTALL_HINT}")
