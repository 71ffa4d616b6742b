"""shipit.yaml -> a Compose file (compose spec, readable by `docker compose` v2 and docker-compose >= 1.27).

Cloud Run's multi-container instances map to compose like this: a sidecar is a compose service
``SERVICE-SIDECAR`` in the service's network namespace (``network_mode: service:SERVICE``), so
``localhost`` reaches the same ports as on Cloud Run; an ``empty_dir`` volume is a tmpfs; Cloud Storage
and NFS volumes are named compose volumes (empty: the bucket or share is not mounted locally).

Pure: config and computed environments in, YAML text out. Secret values never enter the file: each
secret is an interpolation (`STRIPE_KEY: ${STRIPE_KEY}`) that compose fills from the environment
shipit runs it with (or from `--env-file .env` for someone who exports the file and runs it by hand).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shipit.config.build import Build
from shipit.config.cloudrun import Volume
from shipit.config.database_engines import engine
from shipit.config.models import Service
from shipit.config.target import Target
from shipit.errors import one_line
from shipit.local.compose_mysql import mysql_service
from shipit.local.env import DatabaseEndpoint, Endpoints, ServiceEnv, database_identity, sidecar_env
from shipit.local.ports import PortBinding
from shipit.local.redis import (
    DEFAULT_REDIS_IMAGE,
    PASSWORD_VAR,
    REDIS_PORT,
    CacheEndpoint,
    cache_service_name,
    compose_url,
)
from shipit.local.redis import compose_service as redis_service

POSTGRES_PORT = 5432
PUBSUB_SERVICE = "pubsub-emulator"
PUBSUB_PORT = 8085
DEFAULT_POSTGRES_IMAGE = "postgres:{version}-alpine"
DEFAULT_MYSQL_IMAGE = "mysql:{version}"  # the official image has every version Cloud SQL offers
DEFAULT_PUBSUB_IMAGE = "gcr.io/google.com/cloudsdktool/google-cloud-cli:emulators"


@dataclass(frozen=True)
class ComposeOptions:
    project_name: str
    base_dir: Path  # relative paths in the file are written relative to this directory
    env_file_hint: str = ".env"  # shown in the header: where secret values come from
    postgres_image: str = DEFAULT_POSTGRES_IMAGE  # {version} is the database's major version
    mysql_image: str = DEFAULT_MYSQL_IMAGE
    pubsub_image: str = DEFAULT_PUBSUB_IMAGE
    redis_image: str = DEFAULT_REDIS_IMAGE


def db_service_name(key: str) -> str:
    return f"db-{key}"


def reserved_names(target: Target) -> dict[str, str]:
    """Compose service names shipit adds -> what they are, to detect a clash with a user service."""
    names = {db_service_name(key): f"databases.{key}" for key in target.config.databases}
    names.update({cache_service_name(key): f"caches.{key}" for key in target.config.caches})
    if target.config.pubsub is not None:
        names[PUBSUB_SERVICE] = "pubsub"
    for name, svc in target.config.services.items():
        for side in svc.sidecars:
            names[f"{name}-{side}"] = f"services.{name}.sidecars.{side}"
    return names


def compose_endpoints(target: Target) -> Endpoints:
    """Inside the compose network services reach each other by name on their container port."""
    config = target.config
    databases = {}
    for key, db in config.databases.items():
        name, user = database_identity(key, db)
        spec = engine(db.engine)
        databases[key] = DatabaseEndpoint(db_service_name(key), spec.port, name, user, scheme=spec.scheme)
    return Endpoints(
        runtime="compose",
        service_urls={name: f"http://{name}:{svc.port}" for name, svc in config.services.items()},
        service_ports={name: svc.port for name, svc in config.services.items()},
        databases=databases,
        pubsub_host=f"{PUBSUB_SERVICE}:{PUBSUB_PORT}" if config.pubsub is not None else None,
        # The password is not known here (and never written): _service writes compose_url() instead.
        caches={key: CacheEndpoint(cache_service_name(key), REDIS_PORT, "") for key in config.caches},
    )


def _escape(value: str) -> str:
    """Compose interpolates $VAR everywhere; a literal $ is written $$."""
    return value.replace("$", "$$")


def _comment(text: str) -> str:
    """Text for a `#` comment line: a line break or control character in a path cannot end the comment."""
    return one_line(text)


def _relative(path: str, root: Path, base: Path) -> str:
    absolute = (root / os.path.expanduser(path)).resolve()
    rel = os.path.relpath(absolute, base.resolve())
    if rel == ".":
        return "."
    return rel if rel.startswith("..") or os.path.isabs(rel) else f"./{rel}"


def _volume(spec: str, root: Path, base: Path, named: set[str]) -> str:
    source, sep, rest = spec.partition(":")
    if not sep:
        return spec  # an anonymous volume: a container path only
    if source.startswith((".", "/", "~")):
        return f"{_relative(source, root, base)}:{rest}"
    named.add(source)
    return spec


_UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}


# Named volumes shipit adds for Cloud Run volumes -> their compose options (an empty_dir is a tmpfs).
VolumeOptions = dict[str, dict[str, Any]]


def _cloud_volume(service: str, name: str, volume: Volume, mount: str, options: VolumeOptions) -> str:
    """One of the service's Cloud Run volumes, mounted at ``mount``: a named volume shared by the service
    and its sidecars, in memory (tmpfs) for an empty_dir."""
    key = f"{service}-{name}"
    if volume.empty_dir is not None:
        size = volume.empty_dir.size_limit
        opts = f"size={int(size[:-2]) * _UNITS[size[-2:]]}" if size else ""
        options[key] = {"driver_opts": {"type": "tmpfs", "device": "tmpfs", **({"o": opts} if opts else {})}}
        return f"{key}:{mount}"
    options.setdefault(key, {})
    read_only = (volume.gcs.read_only if volume.gcs else False) or (volume.nfs.read_only if volume.nfs else False)
    return f"{service}-{name}:{mount}" + (":ro" if read_only else "")


def _sidecars(
    name: str, target: Target, endpoints: Endpoints, named: VolumeOptions, base: Path
) -> dict[str, dict[str, Any]]:
    svc = target.config.services[name]
    out: dict[str, dict[str, Any]] = {}
    for side, sidecar in svc.sidecars.items():
        body: dict[str, Any] = (
            {"build": _build_block(sidecar.build, None, target.root, base)}
            if sidecar.build is not None
            else {"image": sidecar.image}
        )
        if sidecar.command:
            body["entrypoint"] = [_escape(arg) for arg in sidecar.command]
        if sidecar.args:
            body["command"] = [_escape(arg) for arg in sidecar.args]
        environment = {k: _escape(v) for k, v in sorted(sidecar_env(target, name, side, endpoints).items())}
        for key in sorted(sidecar.secrets):
            environment[key] = "${" + key + "}"
        body["environment"] = environment
        # Cloud Run's containers of one instance share localhost: join the service's network namespace.
        body["network_mode"] = f"service:{name}"
        # Locally a database is reached over TCP: the Cloud SQL socket volume has no equivalent.
        mounts = [
            _cloud_volume(name, v, svc.volumes[v], path, named)
            for v, path in sorted(sidecar.mounts.items())
            if v in svc.volumes
        ]
        if mounts:
            body["volumes"] = mounts
        depends = {name: {"condition": "service_started"}}
        for dep in sidecar.depends_on:
            if dep != name:
                depends[f"{name}-{dep}"] = {"condition": "service_started"}
        body["depends_on"] = depends
        out[f"{name}-{side}"] = body
    return out


def _build(svc: Service, root: Path, base: Path) -> dict[str, Any]:
    assert svc.build is not None
    return _build_block(svc.build, svc.local.target, root, base)


def _build_block(spec: Build, local_target: str | None, root: Path, base: Path) -> dict[str, Any]:
    build: dict[str, Any] = {"context": _relative(spec.context, root, base)}
    # Compose interpolates $VAR in every string of the file: each value from shipit.yaml is escaped.
    if spec.dockerfile:
        build["dockerfile"] = _escape(spec.dockerfile)
    target = local_target or spec.target
    if target:
        build["target"] = _escape(target)
    if spec.args:
        build["args"] = {k: _escape(v) for k, v in sorted(spec.args.items())}
    return build


def _service(
    name: str,
    target: Target,
    env: ServiceEnv,
    ports: tuple[PortBinding, ...],
    options: ComposeOptions,
    named_volumes: set[str],
    cloud_volumes: VolumeOptions,
) -> dict[str, Any]:
    svc = target.config.services[name]
    body: dict[str, Any] = {}
    if svc.image:
        body["image"] = _escape(svc.image)
    else:
        body["build"] = _build(svc, target.root, options.base_dir)
    if svc.local.command:
        body["command"] = [_escape(arg) for arg in svc.local.command]
    # A cache URL holds the local password: compose interpolates it, the file never holds it.
    cache_urls = {target.config.caches[key].env_var: compose_url(key) for key in svc.caches}
    environment: dict[str, str] = {
        key: cache_urls[key] if key in cache_urls else _escape(value) for key, value in sorted(env.plain.items())
    }
    for key in sorted(env.secrets):
        environment[key] = "${" + key + "}"  # filled from the environment compose runs in; never the value
    body["environment"] = environment
    if ports:
        body["ports"] = [binding.compose() for binding in ports]
    volumes: list[str] = [_escape(_volume(v, target.root, options.base_dir, named_volumes)) for v in svc.local.volumes]
    for vol_name, volume in sorted(svc.volumes.items()):
        if volume.mount:
            volumes.append(_escape(_cloud_volume(name, vol_name, volume, volume.mount, cloud_volumes)))
    if volumes:
        body["volumes"] = volumes
    depends: dict[str, dict[str, str]] = {}
    for db_key in svc.databases:
        depends[db_service_name(db_key)] = {"condition": "service_healthy"}
    for cache_key in svc.caches:
        depends[cache_service_name(cache_key)] = {"condition": "service_healthy"}
    if target.config.pubsub is not None:
        depends[PUBSUB_SERVICE] = {"condition": "service_healthy"}
    from shipit.config.refs import parse_refs

    for value in (*svc.env.values(), *svc.local.env.values()):
        for ref in parse_refs(value):
            if ref.kind == "services" and ref.name != name:
                depends.setdefault(ref.name, {"condition": "service_started"})
            elif ref.kind == "databases":
                depends.setdefault(db_service_name(ref.name), {"condition": "service_healthy"})
    if depends:
        body["depends_on"] = depends
    return body


def _postgres(key: str, endpoint: DatabaseEndpoint, version: str, options: ComposeOptions) -> dict[str, Any]:
    return {
        "image": options.postgres_image.format(version=version),
        "environment": {
            "POSTGRES_DB": endpoint.name,
            "POSTGRES_USER": endpoint.user,
            "POSTGRES_PASSWORD": endpoint.password,
        },
        "volumes": [f"{db_service_name(key)}-data:/var/lib/postgresql/data"],
        # An ephemeral host port: reachable with psql from the laptop, never clashing with a local 5432.
        "ports": [f"127.0.0.1::{POSTGRES_PORT}"],
        "healthcheck": {
            # A shell line: its arguments are quoted (they are validated names, quoted all the same).
            "test": ["CMD-SHELL", _escape(shlex.join(["pg_isready", "-U", endpoint.user, "-d", endpoint.name]))],
            "interval": "2s",
            "timeout": "5s",
            "retries": 30,
        },
    }


def _pubsub(project: str, options: ComposeOptions) -> dict[str, Any]:
    return {
        "image": options.pubsub_image,
        "command": [
            "gcloud",
            "beta",
            "emulators",
            "pubsub",
            "start",
            f"--host-port=0.0.0.0:{PUBSUB_PORT}",
            f"--project={project}",
        ],
        "ports": [f"127.0.0.1::{PUBSUB_PORT}"],
        "healthcheck": {
            "test": ["CMD", "curl", "-sf", f"http://127.0.0.1:{PUBSUB_PORT}/"],
            "interval": "2s",
            "timeout": "5s",
            "retries": 60,
        },
    }


class _Dumper(yaml.SafeDumper):
    pass


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    """Short lists of scalars (commands, ports, healthcheck tests) on one line, as people write them."""
    flow = all(isinstance(item, (str, int)) for item in data) and len(str(data)) <= 100
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)

# Characters a YAML reader takes as line breaks (or drops) when they appear raw in a plain or quoted scalar.
_UNSAFE_RAW = frozenset("\x85\u2028\u2029\ufeff")


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    """Double-quoted (with escapes) when a raw character would not read back as itself; plain otherwise."""
    style = '"' if any(c in _UNSAFE_RAW or not c.isprintable() for c in data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump(data: Mapping[str, Any]) -> str:
    return yaml.dump(
        dict(data), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000, allow_unicode=True
    )


def _indent(text: str) -> str:
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(True))


def render_compose(
    target: Target,
    envs: Mapping[str, ServiceEnv],
    ports: Mapping[str, tuple[PortBinding, ...]],
    options: ComposeOptions,
) -> str:
    config = target.config
    endpoints = compose_endpoints(target)
    named_volumes: set[str] = set()
    cloud_volumes: VolumeOptions = {}
    services: dict[str, dict[str, Any]] = {}
    for key, db in config.databases.items():
        if db.engine == "mysql":
            body = mysql_service(
                db_service_name(key), endpoints.databases[key], options.mysql_image.format(version=db.version)
            )
        else:
            body = _postgres(key, endpoints.databases[key], db.version, options)
        services[db_service_name(key)] = body
        named_volumes.add(f"{db_service_name(key)}-data")
    for key in config.caches:
        services[cache_service_name(key)] = redis_service(key, options.redis_image)
        named_volumes.add(f"{cache_service_name(key)}-data")
    if config.pubsub is not None:
        services[PUBSUB_SERVICE] = _pubsub(target.project, options)
    for name in config.services:
        services[name] = _service(name, target, envs[name], ports.get(name, ()), options, named_volumes, cloud_volumes)
        services.update(_sidecars(name, target, endpoints, cloud_volumes, options.base_dir))

    secrets = sorted(
        {key for env in envs.values() for key in env.secrets}
        | {key for svc in config.services.values() for side in svc.sidecars.values() for key in side.secrets}
    )
    header = [
        f"# Generated by `shipit local` from {_comment(str(target.config_file))} (environment: {target.env_name}).",
        "# Do not edit: it is rewritten on every run. `shipit local export > compose.yaml` gives you a copy to own.",
        f"# Run by hand: docker compose -p {_comment(options.project_name)} -f THIS_FILE up",
    ]
    if secrets:
        header.append(
            f"# Secret values ({', '.join(secrets)}) are not in this file: compose reads them from the environment,"
        )
        header.append(f"# e.g. `docker compose --env-file {_comment(shlex.quote(options.env_file_hint))} ...`.")
    if config.caches:
        header.append(
            f"# The local Redis password is not in this file either: compose reads ${{{PASSWORD_VAR}}} from the "
            "environment (shipit sets it from .shipit/redis-password)."
        )
    blocks = [_indent(_dump({name: body})).rstrip("\n") for name, body in services.items()]
    text = "\n".join(header) + "\n\nservices:\n" + "\n\n".join(blocks) + "\n"
    if named_volumes or cloud_volumes:
        volumes: VolumeOptions = {name: {} for name in named_volumes} | cloud_volumes
        text += "\n" + _dump({"volumes": {name: volumes[name] for name in sorted(volumes)}})
    return text
