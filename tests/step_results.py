"""Typed step results from the plain shapes tests write: {"push": {"api": IMG}, "infra": {...}, ...}."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipit.results import InfraResult, MigrateResult, PushResult, SecretsResult, ServicesResult, VerifyResult

_WRAP: dict[str, Any] = {
    "push": PushResult,
    "secrets": SecretsResult,
    "infra": InfraResult,
    "migrate": MigrateResult,
    "services": ServicesResult,
    "verify": VerifyResult,
}


def typed_results(results: Mapping[str, Any] | None) -> dict[str, Any]:
    """Plain dicts become their step's result type; typed values pass through."""
    out: dict[str, Any] = {}
    for step, value in (results or {}).items():
        wrap = _WRAP.get(step)
        plain = wrap is not None and isinstance(value, Mapping) and not isinstance(value, wrap)
        out[step] = wrap(dict(value)) if plain else value
    return out
