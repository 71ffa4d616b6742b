from __future__ import annotations

import os
import socket
from collections.abc import Callable

import pytest

from shipit.config import Target
from shipit.errors import ShipitError, UsageError
from shipit.local.ports import PortBinding, ensure_free, parse_binding, port_owner, port_plan


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("8080:8080", PortBinding("127.0.0.1", 8080, 8080)),
        ("127.0.0.1::8080", PortBinding("127.0.0.1", None, 8080)),
        ("3000", PortBinding("127.0.0.1", 3000, 3000)),
        ("0.0.0.0:81:80", PortBinding("0.0.0.0", 81, 80)),
        ("9000:80/tcp", PortBinding("127.0.0.1", 9000, 80)),
    ],
)
def test_parse_binding(spec: str, expected: PortBinding) -> None:
    assert parse_binding(spec, "x") == expected


def test_bad_binding() -> None:
    with pytest.raises(UsageError, match="not a port mapping"):
        parse_binding("eighty", "services.api.local.ports[0]")


def test_plan_avoids_collisions_and_respects_explicit_ports(make_target: Callable[..., Target]) -> None:
    target = make_target(
        """
        version: 1
        app: shop
        environments: {dev: {project: shop-dev-1, region: us-central1}}
        services:
          a: {}
          b: {local: {ports: ["8081:8080"]}}
          c: {}
        """
    )
    plan = port_plan(target.config)
    assert [plan[s][0].host_port for s in "abc"] == [8080, 8081, 8082]


def test_port_in_use_names_the_process() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        owner = port_owner(port)
        assert owner is not None and f"pid {os.getpid()}" in owner
        with pytest.raises(ShipitError, match=rf"port {port} \(services.api\) is already in use by pid {os.getpid()}"):
            ensure_free(port, "127.0.0.1", "services.api", "stop it")
    ensure_free(port, "127.0.0.1", "services.api", "stop it")
