"""Google's own limits that a valid-looking config can still break: found here, not after seconds of API calls.

Cloud Run reserves some environment variable names and limits one value to 32 KiB; a VPC subnet must be a
real CIDR block that does not overlap the connector's; a secret mounted as a file needs a clean absolute path;
every Secret Manager id that secrets.naming builds must be valid for each declared key.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Iterator

from shipit.config.models import ShipitConfig
from shipit.config.refs import ReferenceError_, parse_refs

Path_ = tuple[str | int, ...]

# Names Cloud Run sets itself and refuses in a service or job definition.
RESERVED_ENV = frozenset(
    {
        "PORT",
        "K_SERVICE",
        "K_REVISION",
        "K_CONFIGURATION",
        "CLOUD_RUN_JOB",
        "CLOUD_RUN_EXECUTION",
        "CLOUD_RUN_TASK_INDEX",
        "CLOUD_RUN_TASK_ATTEMPT",
        "CLOUD_RUN_TASK_COUNT",
    }
)
MAX_ENV_VALUE_BYTES = 32_768  # Cloud Run Admin API: one environment variable value
_SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")


def limit_problems(config: ShipitConfig) -> Iterator[tuple[Path_, str, str | None]]:
    """(path, message, hint) for every Google limit the config breaks."""
    yield from _env_problems(config)
    yield from _network_problems(config)
    yield from _secret_id_problems(config)
    for name, svc in config.services.items():
        for mount in svc.secret_files:
            problem = _mount_problem(mount)
            if problem:
                yield (
                    ("services", name, "secret_files", mount),
                    problem,
                    "use an absolute path such as /secrets/key.json",
                )


def _env_problems(config: ShipitConfig) -> Iterator[tuple[Path_, str, str | None]]:
    declared = set(config.secrets.extra)
    for svc in config.services.values():
        declared.update(svc.secrets)
    for name, svc in config.services.items():
        base: Path_ = ("services", name)
        for var, value in svc.env.items():
            if var in RESERVED_ENV:
                yield (*base, "env", var), f"{var} is set by Cloud Run itself and cannot be set", "rename the variable"
            size = len(value.encode("utf-8"))
            if size > MAX_ENV_VALUE_BYTES:
                yield (
                    (*base, "env", var),
                    f"the value is {size} bytes; Cloud Run allows at most {MAX_ENV_VALUE_BYTES} per variable",
                    "mount large content as a file (secret_files) or read it at runtime",
                )
            try:
                refs = parse_refs(value)
            except ReferenceError_:
                continue  # reported by the reference checks
            for ref in refs:
                if ref.kind == "env" and ref.name in declared:
                    yield (
                        (*base, "env", var),
                        f"{ref} names the declared secret {ref.name}: its value would land in a plain variable",
                        f"list {ref.name} under services.{name}.secrets instead",
                    )
        for i, key in enumerate(svc.secrets):
            if key in RESERVED_ENV:
                yield (*base, "secrets", i), f"{key} is set by Cloud Run itself and cannot be a secret", "rename it"
        for db_name in svc.databases:
            db = config.databases.get(db_name)
            if db is not None and db.env_var in RESERVED_ENV:
                yield (
                    ("databases", db_name, "env_var"),
                    f"{db.env_var} is set by Cloud Run itself",
                    "use another name, e.g. DATABASE_URL",
                )


def _network_problems(config: ShipitConfig) -> Iterator[tuple[Path_, str, str | None]]:
    networks: dict[str, ipaddress.IPv4Network] = {}
    for key in ("connector_cidr", "subnet_cidr"):
        text = getattr(config.infra, key)
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            yield ("infra", key), f"'{text}' is not a valid IPv4 CIDR block ({exc})", "e.g. 10.10.0.0/24"
            continue
        if not isinstance(network, ipaddress.IPv4Network):
            yield ("infra", key), f"'{text}' is not an IPv4 block", "e.g. 10.10.0.0/24"
            continue
        if not network.is_private:
            yield ("infra", key), f"'{text}' is not a private range", "use a block in 10/8, 172.16/12 or 192.168/16"
            continue
        if not 8 <= network.prefixlen <= 29 and key == "subnet_cidr":
            yield ("infra", key), f"a /{network.prefixlen} subnet is outside what VPC allows (/8 to /29)", None
            continue
        networks[key] = network
    if len(networks) == 2 and networks["connector_cidr"].overlaps(networks["subnet_cidr"]):
        yield (
            ("infra", "connector_cidr"),
            f"{networks['connector_cidr']} overlaps subnet_cidr {networks['subnet_cidr']}",
            "pick non-overlapping ranges",
        )


def _secret_id_problems(config: ShipitConfig) -> Iterator[tuple[Path_, str, str | None]]:
    """secrets.naming with the real keys: a long key can push the id past Secret Manager's 255 characters."""
    naming = config.secrets.naming
    keys = set(config.secrets.extra)
    for svc in config.services.values():
        keys.update(svc.secrets)
        keys.update(svc.secret_files.values())
        if svc.build is not None:
            keys.update(svc.build.secrets)
        for sidecar in svc.sidecars.values():
            if sidecar.build is not None:
                keys.update(sidecar.build.secrets)
    for env in config.environments:
        try:
            if not _SECRET_ID.fullmatch(naming.format(app=config.app, env=env, key="KEY")):
                return  # the pattern itself is wrong: reported by the naming check
        except (KeyError, IndexError, ValueError):
            return
        for key in sorted(keys):
            secret_id = naming.format(app=config.app, env=env, key=key)
            if not _SECRET_ID.fullmatch(secret_id):
                shown = secret_id if len(secret_id) <= 60 else secret_id[:57] + "..."
                yield (
                    ("secrets", "naming"),
                    f"gives '{shown}' ({len(secret_id)} characters) for key {key[:40]} in environment {env}, "
                    "not a valid Secret Manager id (at most 255 letters, digits, - and _)",
                    "shorten the key or the naming pattern",
                )
                return


def _mount_problem(mount: str) -> str | None:
    if not mount.startswith("/"):
        return f"mount path '{mount}' is not absolute"
    if any(part == ".." for part in mount.split("/")):
        return f"mount path '{mount}' contains '..'"
    if posixpath.normpath(mount) != mount or "//" in mount:
        return f"mount path '{mount}' is not normalized (expected {posixpath.normpath(mount)})"
    if mount == "/" or posixpath.dirname(mount) == "/":
        return f"mount path '{mount}' is directly under /: Cloud Run mounts a directory per secret"
    if any(ord(c) < 32 for c in mount):
        return "mount path contains a control character"
    return None
