"""Published ports for `shipit local`, and a clear answer to "port in use: by whom?".

Each service publishes its port on 127.0.0.1 (a laptop stack should not listen on the LAN) unless
`local.ports` says otherwise. Services often all use Cloud Run's default 8080, so when two would
publish the same host port the later one (in shipit.yaml order) takes the next free number.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from shipit.config.models import ShipitConfig
from shipit.errors import ShipitError, UsageError

LOOPBACK = "127.0.0.1"
_PORT_RE = re.compile(
    r"^(?:(?P<ip>[0-9]+\.[0-9.]+|\[[0-9a-fA-F:]+\]):)?(?:(?P<host>[0-9]*):)?(?P<container>[0-9]+)(?:/tcp)?$"
)


@dataclass(frozen=True)
class PortBinding:
    host_ip: str
    host_port: int | None  # None: an ephemeral port chosen by the engine
    container_port: int

    def compose(self) -> str:
        host = "" if self.host_port is None else str(self.host_port)
        ip = self.host_ip or ""
        return f"{ip}:{host}:{self.container_port}" if ip else f"{host}:{self.container_port}"


def parse_binding(spec: str, where: str) -> PortBinding:
    match = _PORT_RE.match(spec.strip())
    if not match:
        raise UsageError(
            f"{where}: '{spec}' is not a port mapping", hint="use HOST:CONTAINER, IP:HOST:CONTAINER or CONTAINER"
        )
    host = match.group("host")
    container = int(match.group("container"))
    host_port = int(host) if host else None
    if match.group("host") is None and match.group("ip") is None:
        host_port = container  # "8080" alone publishes 8080:8080, as docker does
    for port in (container, host_port):
        if port is not None and not 1 <= port <= 65535:
            raise UsageError(f"{where}: port {port} is out of range", hint="use 1-65535")
    return PortBinding((match.group("ip") or LOOPBACK).strip("[]"), host_port, container)


def port_plan(config: ShipitConfig) -> dict[str, tuple[PortBinding, ...]]:
    """Host bindings per service: `local.ports` as written, else 127.0.0.1:PORT:PORT without collisions."""
    taken: set[int] = set()
    explicit: dict[str, tuple[PortBinding, ...]] = {}
    for name, svc in config.services.items():
        if svc.local.ports:
            bindings = tuple(
                parse_binding(spec, f"services.{name}.local.ports[{i}]") for i, spec in enumerate(svc.local.ports)
            )
            explicit[name] = bindings
            taken.update(b.host_port for b in bindings if b.host_port is not None)
    plan: dict[str, tuple[PortBinding, ...]] = {}
    for name, svc in config.services.items():
        if name in explicit:
            plan[name] = explicit[name]
            continue
        if svc.kind == "worker":  # nothing to publish: a worker serves no requests
            plan[name] = ()
            continue
        host_port = svc.port
        while host_port in taken:
            host_port += 1
        taken.add(host_port)
        plan[name] = (PortBinding(LOOPBACK, host_port, svc.port),)
    return plan


def primary(bindings: tuple[PortBinding, ...], container_port: int) -> PortBinding | None:
    """The binding that publishes the service's own port (its local URL), else the first one."""
    for binding in bindings:
        if binding.container_port == container_port:
            return binding
    return bindings[0] if bindings else None


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _listening_inodes(port: int, proc: Path) -> set[str]:
    """Socket inodes listening on ``port`` (any address), from /proc/net/tcp and tcp6."""
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (proc / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                # local_address is HEXIP:HEXPORT; state 0A is LISTEN
                if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def port_owner(port: int, proc: Path = Path("/proc")) -> str | None:
    """ "pid 1234 (python3 -m http.server 8080)" for the process listening on ``port``, if it can be seen."""
    inodes = _listening_inodes(port, proc)
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in targets:
                        raw = (entry / "cmdline").read_bytes().replace(b"\0", b" ").strip()
                        command = raw.decode("utf-8", "replace")[:120] or (entry / "comm").read_text().strip()
                        return f"pid {entry.name} ({command})"
    return "another process (run as root, or `ss -ltnp`, to see which)"


def ensure_free(port: int, host: str, what: str, fix: str) -> None:
    """Raise a clear error naming the process when ``port`` cannot be bound."""
    if port_is_free(port, host):
        return
    owner = port_owner(port)
    holder = f" by {owner}" if owner else ""
    raise ShipitError(f"port {port} ({what}) is already in use{holder}", hint=fix)
