"""Caches in shipit.yaml: a Memorystore for Redis instance on a private IP (a Redis server locally).

A service opts in with ``caches: [NAME]`` and gets the connection URL as a secret env var (REDIS_URL by
default), exactly as ``databases:`` gives DATABASE_URL. In the cloud the URL is ``rediss://`` (TLS, AUTH
on) and a second variable (REDIS_CA_CERT) carries the instance's server CA certificate in PEM; locally
it is ``redis://`` with a password and no CA variable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from shipit.config.types import EnvVarName, Int

if TYPE_CHECKING:
    from shipit.config.models import ShipitConfig

Path_ = tuple[str | int, ...]


class Cache(BaseModel):
    """A Memorystore for Redis instance (private service access, AUTH and TLS on)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    engine: Literal["redis"] = "redis"
    tier: Literal["BASIC", "STANDARD_HA"] = Field(
        "BASIC", description="BASIC: one node; STANDARD_HA: a replica in another zone with automatic failover."
    )
    memory_gb: Int = Field(1, ge=1, le=300, description="Memory size in GiB.")
    version: Literal["REDIS_6_X", "REDIS_7_0", "REDIS_7_2"] = "REDIS_7_2"
    env_var: EnvVarName = Field("REDIS_URL", description="Variable that carries the connection URL.")
    ca_env_var: EnvVarName = Field(
        "REDIS_CA_CERT", description="Variable that carries the server CA certificate (PEM) in the cloud."
    )


def cache_url_secret_key(cache: str) -> str:
    """The secret key (passed through secrets.naming) of the secret that holds a cache's URL."""
    return f"REDIS_URL_{cache.upper().replace('-', '_')}"


def cache_ca_secret_key(cache: str) -> str:
    """The secret key of the secret that holds a cache's server CA certificate."""
    return f"REDIS_CA_{cache.upper().replace('-', '_')}"


def cache_variables(config: ShipitConfig, names: tuple[str, ...]) -> list[str]:
    """The variables the given caches set on a service (URL and CA), for collision checks."""
    out: list[str] = []
    for name in names:
        cache = config.caches.get(name)
        if cache is not None:
            out.extend((cache.env_var, cache.ca_env_var))
    return out


def cache_problems(config: ShipitConfig) -> Iterator[tuple[Path_, str, str | None]]:
    """Undefined caches, variables that would be set twice on one service, and reserved names."""
    # Both import the models, which import this module: imported here, when the models exist.
    from shipit.config.checks import _undefined
    from shipit.config.limits import RESERVED_ENV

    for name, svc in config.services.items():
        base: Path_ = ("services", name)
        for i, ref in enumerate(svc.caches):
            if ref not in config.caches:
                message, hint = _undefined("caches", ref, config.caches)
                yield (*base, "caches", i), message, hint
        variables = cache_variables(config, svc.caches)
        taken = {config.databases[d].env_var for d in svc.databases if d in config.databases}
        taken |= set(svc.env) | set(svc.secrets)
        for var in sorted({v for v in variables if variables.count(v) > 1 or v in taken}):
            yield (
                (*base, "caches"),
                f"{var} is set by more than one cache, or also by a database, env or secrets",
                "give the cache another env_var / ca_env_var",
            )
    for job_name, job in config.jobs.items():
        for i, ref in enumerate(job.caches):
            if ref not in config.caches:
                message, hint = _undefined("caches", ref, config.caches)
                yield ("jobs", job_name, "caches", i), message, hint
        if job.image is not None and job.caches:
            yield (
                ("jobs", job_name, "caches"),
                "a job with its own image runs as the default compute account, which may read no cache secret",
                "use service: NAME to run a service's image as its account",
            )
    for cache_name, cache in config.caches.items():
        for field in ("env_var", "ca_env_var"):
            if getattr(cache, field) in RESERVED_ENV:
                yield ("caches", cache_name, field), f"{getattr(cache, field)} is set by Cloud Run itself", "rename it"
    for key in config.secrets.extra:
        if any(key in (c.env_var, c.ca_env_var) for c in config.caches.values()):
            yield ("secrets", "extra"), f"{key} is managed by a cache", "remove it"
