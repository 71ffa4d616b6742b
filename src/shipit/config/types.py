"""Constrained scalar types with Google's own rules and messages that say how to fix a value."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, GetCoreSchemaHandler, GetJsonSchemaHandler, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema


class _Rule:
    """A regex rule with a message that says how to fix the value; its pattern also goes into the JSON Schema,
    so editors flag a bad name while it is typed."""

    def __init__(self, pattern: str, what: str, fix: str) -> None:
        self.pattern, self.what, self.fix = pattern, what, fix
        self._compiled = re.compile(pattern)

    def _check(self, value: str) -> str:
        if not self._compiled.fullmatch(value):
            raise PydanticCustomError(
                "shipit_value",
                "'{value}' is not a valid {what} ({fix})",
                {"value": value, "what": self.what, "fix": self.fix},
            )
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(schema), "pattern": f"^{self.pattern}$"}


def _rule(pattern: str, what: str, fix: str) -> _Rule:
    return _Rule(pattern, what, fix)


# Cloud Run: lowercase letter first, [a-z0-9-], <= 49 characters, no trailing hyphen.
ServiceName = Annotated[
    str,
    _rule(
        r"[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?",
        "Cloud Run service name",
        "lowercase letters, digits and hyphens, starting with a letter, at most 49 characters, "
        "not ending with a hyphen",
    ),
]
# Used in Cloud SQL instance and Terraform names.
ResourceName = Annotated[
    str,
    _rule(
        r"[a-z](?:[a-z0-9-]{0,28}[a-z0-9])?",
        "name",
        "lowercase letters, digits and hyphens, starting with a letter, at most 30 characters",
    ),
]
AppName = Annotated[
    str,
    _rule(
        r"[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?",
        "app name",
        "lowercase letters, digits and hyphens, starting with a letter, at most 20 characters",
    ),
]
EnvironmentName = Annotated[
    str,
    _rule(
        r"[a-z](?:[a-z0-9-]{0,13}[a-z0-9])?",
        "environment name",
        "lowercase letters, digits and hyphens, starting with a letter, at most 15 characters",
    ),
]
ProjectId = Annotated[
    str,
    _rule(
        r"(?!.*google)[a-z][a-z0-9-]{4,28}[a-z0-9]",
        "Google Cloud project id",
        "6 to 30 lowercase letters, digits or hyphens, starting with a letter, not ending with a hyphen, "
        "without the word 'google'",
    ),
]
Region = Annotated[str, _rule(r"[a-z]+-[a-z]+[0-9]{1,2}", "region", "use e.g. us-central1, europe-west1")]
# Secret Manager secret ids: [A-Za-z0-9_-], at most 255 characters; we also use them as env var names.
SecretKey = Annotated[
    str,
    _rule(
        r"[A-Za-z_][A-Za-z0-9_]{0,254}",
        "secret key",
        "letters, digits and underscores, not starting with a digit, e.g. STRIPE_KEY",
    ),
]
EnvVarName = Annotated[
    str,
    _rule(
        r"[A-Za-z_][A-Za-z0-9_]*",
        "environment variable name",
        "letters, digits and underscores, not starting with a digit",
    ),
]
LabelKey = Annotated[
    str,
    _rule(
        r"[a-z][a-z0-9_-]{0,62}",
        "label key",
        "lowercase letters, digits, _ and -, starting with a letter, at most 63 characters",
    ),
]
LabelValue = Annotated[str, _rule(r"[a-z0-9_-]{0,63}", "label value", "lowercase letters, digits, _ and -, at most 63")]
PubSubName = Annotated[
    str,
    _rule(
        r"(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}",
        "Pub/Sub name",
        "3 to 255 characters: letters, digits, - _ . ~ + %, starting with a letter, not 'goog'",
    ),
]

_MEMORY_UNITS = {
    "Ki": 1 / 1024,
    "Mi": 1,
    "Gi": 1024,
    "k": 1000 / 1024 / 1024,
    "M": 1000**2 / 1024**2,
    "G": 1000**3 / 1024**2,
}


def memory_mib(value: str) -> float:
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|k|M|G)", value)
    if not match:
        raise ValueError(value)
    return float(match.group(1)) * _MEMORY_UNITS[match.group(2)]


def _check_memory(value: str) -> str:
    try:
        mib = memory_mib(value)
    except ValueError:
        raise PydanticCustomError(
            "shipit_value", "'{value}' is not a valid memory size (use e.g. 512Mi, 1Gi)", {"value": value}
        ) from None
    if not 128 <= mib <= 32 * 1024:
        raise PydanticCustomError(
            "shipit_value", "'{value}' is outside what Cloud Run allows (128Mi to 32Gi)", {"value": value}
        )
    return value


Memory = Annotated[
    str,
    AfterValidator(_check_memory),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|k|M|G)$", "examples": ["512Mi", "1Gi"]}),
]


def cpu_count(value: str) -> float:
    if value.endswith("m") and value[:-1].isdigit():
        return int(value[:-1]) / 1000
    return float(value)


def _check_cpu(value: Any) -> str:
    text = str(value).strip()
    try:
        cpus = cpu_count(text)
    except ValueError:
        cpus = -1.0
    if not ((0.08 <= cpus < 1) or cpus in (1, 2, 4, 6, 8)):
        raise PydanticCustomError(
            "shipit_value",
            "'{value}' is not a CPU value Cloud Run accepts (use 1, 2, 4, 6, 8, or 0.08 to <1)",
            {"value": text},
        )
    return text


# YAML gives `cpu: 1` as a number and `cpu: 500m` as a string; both are accepted.
Cpu = Annotated[
    str,
    BeforeValidator(_check_cpu),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?|[0-9]+m)$"}],
            "description": "1, 2, 4, 6, 8, or 0.08 to <1 (then concurrency must be 1).",
        }
    ),
]

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


def _to_seconds(value: Any) -> int:
    # Context values are rendered as text: pydantic would print a bare boolean as 1.
    if isinstance(value, bool):
        text = "true" if value else "false"
        raise PydanticCustomError("shipit_value", "'{value}' is not a duration (use e.g. 300s, 5m)", {"value": text})
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"([0-9]+)(s|m|h)", str(value).strip())
    if not match:
        raise PydanticCustomError(
            "shipit_value", "'{value}' is not a duration (use e.g. 300s, 5m)", {"value": str(value)}
        )
    return int(match.group(1)) * _DURATION_UNITS[match.group(2)]


Seconds = Annotated[
    int,
    BeforeValidator(_to_seconds),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+(s|m|h)$"}]}),
]


def _stringify_scalar(value: Any) -> Any:
    """Env values are strings in Cloud Run; accept YAML numbers and booleans like compose does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


EnvValue = Annotated[str, BeforeValidator(_stringify_scalar), WithJsonSchema({"type": ["string", "number", "boolean"]})]


def _split_command(value: Any) -> Any:
    if isinstance(value, str):
        import shlex

        return shlex.split(value)
    return value


Command = Annotated[
    tuple[str, ...],
    BeforeValidator(_split_command),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": "A list of arguments, or a string split like a shell would.",
        }
    ),
]


def _no_bool(value: Any) -> Any:
    """YAML's `true` is not the number 1: `port: true` is a mistake, not port 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer", {})
    return value


# An integer that refuses booleans (pydantic's lax mode would read `true` as 1).
Int = Annotated[int, BeforeValidator(_no_bool)]


def _non_empty_command(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value or not value[0].strip():
        raise PydanticCustomError("shipit_value", "the command is empty (give the program to run, e.g. pytest)", {})
    return value


NonEmptyCommand = Annotated[Command, AfterValidator(_non_empty_command)]
