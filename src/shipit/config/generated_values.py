"""Config values that end up in generated files or in references built from them, checked with the same
rules as the generators (shipit.values), so a bad one is a located error of `validate` (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from shipit import values


def _pydantic(check: Callable[[str], str]) -> AfterValidator:
    def run(value: str) -> str:
        try:
            return check(value)
        except values.InvalidValue as exc:
            # The message is already one line with the value quoted; braces would be read as placeholders.
            raise PydanticCustomError("shipit_value", "{reason}", {"reason": str(exc)}) from None

    return AfterValidator(run)


BucketName = Annotated[str, _pydantic(values.gcs_bucket)]
RegistryHost = Annotated[str, _pydantic(values.registry_host)]
ImageRef = Annotated[str, _pydantic(values.image_ref)]
