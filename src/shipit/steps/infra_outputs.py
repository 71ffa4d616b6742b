"""Terraform outputs, as the generated module writes them, turned into the flat inputs deploy steps read.

The generated module groups per-database values (``databases: {name: {private_ip, connection_name,
url_secret, url_secret_version}}``), per-cache values (``caches: {name: {host, port, url_secret,
url_secret_version, ca_secret, ca_secret_version}}``) and the network (``network: {network, subnet}``); a user-written
module may instead give the flat keys directly. Both work: flat keys win. ``vpc_subnets`` and
``vpc_connectors`` (region -> subnet name / connector id, multi-region environments) pass through as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def deploy_inputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    databases = outputs.get("databases")
    if isinstance(databases, Mapping):
        for target_key, source_key in (
            ("database_private_ips", "private_ip"),
            ("database_connection_names", "connection_name"),
            ("database_url_secrets", "url_secret"),
            ("database_url_versions", "url_secret_version"),
        ):
            values = {name: db.get(source_key) for name, db in databases.items() if isinstance(db, Mapping)}
            values = {name: value for name, value in values.items() if value}
            if values:
                flat[target_key] = values
    caches = outputs.get("caches")
    if isinstance(caches, Mapping):
        for target_key, source_key in (
            ("cache_hosts", "host"),
            ("cache_url_secrets", "url_secret"),
            ("cache_url_versions", "url_secret_version"),
            ("cache_ca_secrets", "ca_secret"),
            ("cache_ca_versions", "ca_secret_version"),
        ):
            values = {name: c.get(source_key) for name, c in caches.items() if isinstance(c, Mapping)}
            values = {name: value for name, value in values.items() if value}
            if values:
                flat[target_key] = values
    network = outputs.get("network")
    if isinstance(network, Mapping):
        if network.get("network"):
            flat["vpc_network"] = network["network"]
        if network.get("subnet"):
            flat["vpc_subnetwork"] = network["subnet"]
    flat.update({k: v for k, v in outputs.items() if k not in ("databases", "caches", "network")})
    return flat
