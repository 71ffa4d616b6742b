"""The private network of a multi-region environment: one subnet (and connector) per region.

A VPC network is global, and Cloud SQL's and Memorystore's private IPs (private services access) are
reachable from every region of it. What is regional is the way in: a Direct VPC egress subnet, or a
Serverless VPC Access connector. So a service that reaches the VPC gets a subnet (and, in connector mode,
a connector) in each region it runs in.

Their ranges are derived from ``infra.subnet_cidr`` and ``infra.connector_cidr``: the region at position
``i`` of the environment's regions (the primary is 0) gets the block ``i`` sizes further on. The primary
keeps the configured ranges exactly, so a single-region environment that grows a region keeps its subnet
and connector.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipit.config.models import Environment, ShipitConfig

Path_ = tuple[str | int, ...]


def regional_cidr(base: str, index: int) -> str:
    """``base`` moved ``index`` blocks of its own size on: 10.10.0.0/24, 2 -> 10.10.2.0/24."""
    network = ipaddress.IPv4Network(base, strict=True)
    return str(ipaddress.IPv4Network((int(network.network_address) + index * network.num_addresses, network.prefixlen)))


def environment_regions(env: Environment, config: ShipitConfig) -> list[str]:
    """Every region named for the environment (its own, its services', its overlays'): an upper bound."""
    seen = [env.region, *(env.regions or ())]
    for svc in config.services.values():
        seen.extend(svc.regions or ())
    for overlay in env.services.values():
        seen.extend(overlay.get("regions") or ())
    return list(dict.fromkeys(seen))


def vpc_region_problems(config: ShipitConfig) -> Iterator[tuple[Path_, str, str | None]]:
    """The derived ranges of every region must stay private and must not overlap one another."""
    for env in config.environments.values():
        count = len(environment_regions(env, config))
        if count < 2:
            continue
        try:
            subnets = [ipaddress.IPv4Network(regional_cidr(config.infra.subnet_cidr, i)) for i in range(count)]
            connectors = [ipaddress.IPv4Network(regional_cidr(config.infra.connector_cidr, i)) for i in range(count)]
        except ValueError:
            return  # the single-region check reports the configured range itself
        for what, blocks in (("subnet_cidr", subnets), ("connector_cidr", connectors)):
            if not all(block.is_private for block in blocks):
                yield (
                    ("infra", what),
                    f"{what} {blocks[0]} leaves the private ranges when repeated for {count} regions",
                    "pick a block with room after it (each further region takes the next block of its size)",
                )
                return
        for i, subnet in enumerate(subnets):
            for j, connector in enumerate(connectors):
                if subnet.overlaps(connector):
                    yield (
                        ("infra", "connector_cidr"),
                        f"the connector range of region {j + 1} ({connector}) overlaps the subnet of region "
                        f"{i + 1} ({subnet}): each further region takes the next block of each range",
                        "pick ranges far apart, e.g. subnet_cidr 10.10.0.0/24 and connector_cidr 10.8.0.0/28",
                    )
                    return
