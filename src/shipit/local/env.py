"""The environment each service sees locally, computed from the same shipit.yaml as the cloud's.

Parity rule: the NAMES a service sees locally are the names Cloud Run gives it (plain env, secrets,
one variable per database), plus only what the platform itself provides in the cloud (PORT,
K_SERVICE) and emulator wiring (PUBSUB_EMULATOR_HOST). Anything else, i.e. `local.env`, is a
variable the cloud deploy would lack and `shipit local` warns about it.

Values differ by design: URLs point at compose service names (or 127.0.0.1 for native processes),
DATABASE_URL at the local Postgres or MySQL/MariaDB, secrets come from the environment's .env file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from shipit.config.models import Database, ShipitConfig
from shipit.config.refs import Reference, parse_refs, substitute
from shipit.config.target import Target
from shipit.errors import ConfigError, ConfigIssue, Location
from shipit.local.redis import CacheEndpoint

Runtime = Literal["compose", "native"]

# Cloud Run sets these itself in every container; locally shipit sets them so code behaves the same.
PLATFORM_VARS = frozenset({"PORT", "K_SERVICE"})
# Only meaningful against an emulator: the cloud client libraries talk to the real service without it.
EMULATOR_VARS = frozenset({"PUBSUB_EMULATOR_HOST"})

# The local database password. Not a secret: the database only listens on this machine (compose
# network or 127.0.0.1) and holds development data; a fixed value keeps the compose file readable.
LOCAL_DB_PASSWORD = "shipit"
DEFAULT_DB_USER = "app"


@dataclass(frozen=True)
class DatabaseEndpoint:
    host: str
    port: int
    name: str
    user: str
    password: str = LOCAL_DB_PASSWORD
    scheme: str = "postgresql"  # mysql for engine: mysql (shipit.config.database_engines)

    @property
    def url(self) -> str:
        # Without the cloud's TLS parameter: the local servers listen on loopback or the compose network only.
        return f"{self.scheme}://{self.user}:{self.password}@{self.host}:{self.port}/{self.name}"


def database_identity(key: str, db: Database) -> tuple[str, str]:
    """(database name, user) as the cloud creates them: `name` defaults to the key, `user` to app."""
    return db.name or key.replace("-", "_"), db.user or DEFAULT_DB_USER


@dataclass(frozen=True)
class Endpoints:
    """Where things are reachable from inside a service, for one runtime."""

    runtime: Runtime
    service_urls: Mapping[str, str]
    service_ports: Mapping[str, int]  # the PORT each service listens on
    databases: Mapping[str, DatabaseEndpoint]
    pubsub_host: str | None = None
    caches: Mapping[str, CacheEndpoint] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceEnv:
    """One service's local environment. ``secrets`` hold .env values: never write them to a file."""

    service: str
    plain: Mapping[str, str]
    secrets: Mapping[str, str] = field(repr=False)
    local_only: tuple[str, ...] = ()  # names the cloud deploy would lack
    unset_refs: tuple[str, ...] = ()  # ${env.VAR} references with no value here

    @property
    def values(self) -> dict[str, str]:
        return {**self.plain, **self.secrets}

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.plain) | frozenset(self.secrets)

    def parity_names(self) -> frozenset[str]:
        """The names to compare with the cloud's: without what the platform or an emulator provides."""
        return self.names - PLATFORM_VARS - EMULATOR_VARS


def cloud_env_names(config: ShipitConfig, service: str) -> frozenset[str]:
    """The variable names the Cloud Run service gets: env + secrets + one per database.

    `secret_files` are mounted as files, not variables. Mirrors shipit.render.cloudrun; the parity
    test compares both.
    """
    svc = config.services[service]
    names = set(svc.env) | set(svc.secrets)
    names.update(config.databases[d].env_var for d in svc.databases if d in config.databases)
    names.update(
        var for c in svc.caches if c in config.caches for var in (config.caches[c].env_var, config.caches[c].ca_env_var)
    )
    return frozenset(names)


# ----------------------------------------------------------------------------------- secrets


def declared_secrets(config: ShipitConfig) -> dict[str, list[str]]:
    """Secret key -> where it is declared (services.X.secrets), for every key a local run needs."""
    keys: dict[str, list[str]] = {}
    for name, svc in config.services.items():
        for key in svc.secrets:
            keys.setdefault(key, []).append(f"services.{name}.secrets")
        for side, sidecar in svc.sidecars.items():
            for key in sidecar.secrets:
                keys.setdefault(key, []).append(f"services.{name}.sidecars.{side}.secrets")
    return keys


def display_path(path: Path, cwd: Path | None = None) -> str:
    try:
        return str(path.resolve().relative_to((cwd or Path.cwd()).resolve()))
    except ValueError:
        return str(path)


def load_secret_values(target: Target) -> dict[str, str]:
    """The values of every declared secret from the environment's .env file (registered for redaction).

    A missing file or key is a ConfigError (exit 2) naming the file and the key.
    """
    needed = declared_secrets(target.config)
    if not needed:
        return {}
    display = display_path(target.env_file)
    env_file = _read_env_file(target.env_file, display)
    issues: list[ConfigIssue] = []
    for key, where in needed.items():
        if key in env_file.values:
            continue
        if env_file.exists:
            message = f"{key} is missing (declared in {', '.join(where)})"
        else:
            message = f"the file does not exist; it must define {key} (declared in {', '.join(where)})"
        issues.append(ConfigIssue(Location(display), "", message, f"add {key}=... to {display}"))
    if issues:
        raise ConfigError(issues)
    return {key: env_file.values[key] for key in needed}


@dataclass(frozen=True)
class _EnvFile:
    values: Mapping[str, str] = field(repr=False)
    exists: bool


def _read_env_file(path: Path, display: str) -> _EnvFile:
    """shipit.envfile (file:line errors) when present; python-dotenv directly until it lands."""
    try:
        from shipit.envfile import read_env_file
    except ImportError:  # pragma: no cover - only before the envfile module is committed
        from dotenv import dotenv_values

        from shipit.output import REDACTOR

        if not path.exists():
            return _EnvFile({}, exists=False)
        values = {k: v for k, v in dotenv_values(path, interpolate=False).items() if v is not None}
        for value in values.values():
            REDACTOR.register(value)
        return _EnvFile(values, exists=True)
    parsed = read_env_file(path, display)
    return _EnvFile(parsed.values, parsed.exists)


# ----------------------------------------------------------------------------------- computing


def _resolver(target: Target, endpoints: Endpoints, unset: list[str]) -> Callable[[Reference], str]:
    def resolve(ref: Reference) -> str:
        if ref.kind == "app":
            return target.app
        if ref.kind == "environment":
            return {"name": target.env_name, "project": target.project, "region": target.region}[ref.attr]
        if ref.kind == "services":
            return endpoints.service_urls[ref.name] if ref.attr == "url" else ref.name
        if ref.kind == "databases":
            db = endpoints.databases[ref.name]
            return {"url": db.url, "host": db.host, "port": str(db.port), "name": db.name, "user": db.user}[ref.attr]
        if ref.kind == "env":
            value = os.environ.get(ref.name)
            if value is None:
                unset.append(ref.name)
                return ""
            return value
        raise AssertionError(f"unhandled reference {ref}")  # refs are validated at load time

    return resolve


def service_env(target: Target, service: str, endpoints: Endpoints, secret_values: Mapping[str, str]) -> ServiceEnv:
    config = target.config
    svc = config.services[service]
    unset: list[str] = []
    resolve = _resolver(target, endpoints, unset)
    plain: dict[str, str] = {"K_SERVICE": service}
    if svc.kind != "worker":  # a worker pool listens on no port, and Cloud Run sets no PORT for it
        plain = {"PORT": str(endpoints.service_ports[service]), **plain}
    if endpoints.pubsub_host is not None:
        plain["PUBSUB_EMULATOR_HOST"] = endpoints.pubsub_host
    for key, value in svc.env.items():
        plain[key] = substitute(value, resolve)
    for db_key in svc.databases:
        plain[config.databases[db_key].env_var] = endpoints.databases[db_key].url
    for cache_key in svc.caches:
        cache = config.caches[cache_key]
        plain[cache.env_var] = endpoints.caches[cache_key].url
        # The local server speaks plain TCP (redis://): no CA to verify. In the cloud it is the server CA.
        plain[cache.ca_env_var] = ""
    cloud = cloud_env_names(config, service)
    local_only: list[str] = []
    for key, value in svc.local.env.items():
        plain[key] = substitute(value, resolve)
        if key not in cloud and key not in PLATFORM_VARS | EMULATOR_VARS:
            local_only.append(key)
    secrets = {key: secret_values[key] for key in svc.secrets}
    return ServiceEnv(service, plain, secrets, tuple(local_only), tuple(dict.fromkeys(unset)))


def sidecar_env(target: Target, service: str, sidecar: str, endpoints: Endpoints) -> dict[str, str]:
    """A sidecar's plain variables with references resolved for the local runtime."""
    resolve = _resolver(target, endpoints, [])
    env = target.config.services[service].sidecars[sidecar].env
    return {key: substitute(value, resolve) for key, value in env.items()}


def all_service_envs(target: Target, endpoints: Endpoints, secret_values: Mapping[str, str]) -> dict[str, ServiceEnv]:
    return {name: service_env(target, name, endpoints, secret_values) for name in target.config.services}


def parity_warnings(envs: Mapping[str, ServiceEnv], config: ShipitConfig) -> list[str]:
    """One line per variable a service sees locally but would lack in the cloud (and vice versa)."""
    lines: list[str] = []
    for name, env in envs.items():
        for key in env.local_only:
            lines.append(
                f"services.{name}.local.env.{key} is set locally but the cloud deploy would lack it "
                f"(add it to services.{name}.env or secrets)"
            )
        missing = cloud_env_names(config, name) - env.parity_names()
        for key in sorted(missing):  # by construction empty; guards future changes to either side
            lines.append(f"services.{name}: {key} is set in the cloud but not locally")
        svc = config.services[name]
        for key, value in svc.env.items():
            if any(ref.kind == "databases" and ref.attr == "url" for ref in parse_refs(value)):
                lines.append(
                    f"services.{name}.env.{key} holds a database URL (with its password) in a plain variable: "
                    f"the cloud deploy refuses that (list the database under services.{name}.databases)"
                )
        for var in env.unset_refs:
            lines.append(f"services.{name}: ${{env.{var}}} is not set in this shell; using an empty value")
    return lines
