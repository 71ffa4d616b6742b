"""Compose behind one small class: `docker compose` v2 through python-on-whales, or Debian's
`docker-compose` v1 through adapters.process.run when that is all the machine has.

Secret values reach compose only through its process environment (the compose file interpolates
`${KEY}`), never through argv or a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipit.adapters.process import run
from shipit.errors import CommandFailed, ShipitError, ToolError
from shipit.output import REDACTOR

LineSink = Callable[[str], None]

DOCKER_HINT = "start Docker (Docker Desktop, or `sudo dockerd`), or point DOCKER_HOST at a running engine"


@dataclass(frozen=True)
class ComposeProject:
    file: Path
    name: str
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # values for ${VAR} in the file


@dataclass(frozen=True)
class ContainerState:
    service: str
    name: str
    state: str  # created, running, exited, ...
    health: str | None  # starting, healthy, unhealthy; None without a healthcheck
    exit_code: int
    ports: Mapping[int, str]  # container port -> "127.0.0.1:32768"


def docker_server_version() -> str:
    """The engine's version; a clear error when the CLI is missing or the engine is not running."""
    result = run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        check=False,
        timeout=30,
        hint="install Docker: https://docs.docker.com/get-docker/",
    )
    version = result.stdout.strip()
    if result.returncode != 0 or not version:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = f": {detail[-1]}" if detail else ""
        raise ToolError(f"the Docker engine is not running (at {host}){reason}", hint=DOCKER_HINT)
    return version


def project_containers(project: str) -> list[ContainerState]:
    """Every container of a compose project (v1 and v2 both label them), running or not."""
    ids = run(
        ["docker", "ps", "-a", "-q", "--filter", f"label=com.docker.compose.project={project}"], timeout=60
    ).stdout.split()
    if not ids:
        return []
    inspected = json.loads(run(["docker", "inspect", *ids], timeout=60).stdout or "[]")
    states = []
    for item in inspected:
        labels = item.get("Config", {}).get("Labels") or {}
        if labels.get("com.docker.compose.oneoff") == "True":
            continue
        state = item.get("State", {})
        health = (state.get("Health") or {}).get("Status")
        ports: dict[int, str] = {}
        for key, bindings in ((item.get("NetworkSettings") or {}).get("Ports") or {}).items():
            port, _, proto = key.partition("/")
            if proto == "tcp" and bindings:
                ports[int(port)] = f"{bindings[0]['HostIp'] or '127.0.0.1'}:{bindings[0]['HostPort']}"
        states.append(
            ContainerState(
                service=labels.get("com.docker.compose.service", "?"),
                name=item.get("Name", "").lstrip("/"),
                state=state.get("Status", "unknown"),
                health=health,
                exit_code=int(state.get("ExitCode", 0)),
                ports=ports,
            )
        )
    return sorted(states, key=lambda c: c.service)


class Compose:
    """The operations `shipit local` needs; one subclass per compose implementation."""

    kind = "compose"

    def __init__(self, project: ComposeProject) -> None:
        self.project = project
        for value in project.env.values():
            REDACTOR.register(value)

    def up(self, *, build: bool, on_line: LineSink) -> None:
        raise NotImplementedError

    def down(self, *, volumes: bool, on_line: LineSink) -> None:
        raise NotImplementedError

    def logs(self, services: Sequence[str], *, follow: bool, tail: str, on_line: LineSink) -> None:
        raise NotImplementedError

    def exec(self, service: str, command: Sequence[str], *, interactive: bool) -> int:
        raise NotImplementedError

    def config(self) -> str:
        raise NotImplementedError

    def ps(self) -> list[ContainerState]:
        return project_containers(self.project.name)


class ComposeV1(Compose):
    """Debian's docker-compose 1.29 (the compose spec without the top-level `name`)."""

    kind = "docker-compose v1"

    def __init__(self, project: ComposeProject, binary: str) -> None:
        super().__init__(project)
        self.binary = binary

    def _argv(self, *args: str) -> list[str]:
        return [self.binary, "-f", str(self.project.file), "-p", self.project.name, *args]

    def _run(self, *args: str, on_line: LineSink | None = None, hint: str | None = None) -> str:
        result = run(self._argv(*args), env=self.project.env, on_line=on_line, hint=hint)
        return result.stdout

    def up(self, *, build: bool, on_line: LineSink) -> None:
        self._run("up", "-d", "--remove-orphans", *(["--build"] if build else []), on_line=on_line)

    def down(self, *, volumes: bool, on_line: LineSink) -> None:
        self._run("down", "--remove-orphans", *(["--volumes"] if volumes else []), on_line=on_line)

    def logs(self, services: Sequence[str], *, follow: bool, tail: str, on_line: LineSink) -> None:
        self._run("logs", "--no-color", f"--tail={tail}", *(["-f"] if follow else []), *services, on_line=on_line)

    def exec(self, service: str, command: Sequence[str], *, interactive: bool) -> int:
        argv = self._argv("exec", *([] if interactive else ["-T"]), service, *command)
        if interactive:
            # A terminal session: stdio must be the user's own, which process.run (capturing) cannot give.
            return subprocess.call(argv, env={**os.environ, **self.project.env})
        result = run(argv, env=self.project.env, check=False, on_line=lambda line: print(line, flush=True))
        return result.returncode

    def config(self) -> str:
        return self._run("config")


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """python-on-whales passes os.environ to compose; set the interpolation values only for the call."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


class ComposeV2(Compose):
    """`docker compose` (the CLI plugin) through python-on-whales."""

    kind = "docker compose v2"

    def _client(self) -> Any:
        from python_on_whales import DockerClient

        return DockerClient(compose_files=[self.project.file], compose_project_name=self.project.name)

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        from python_on_whales.exceptions import DockerException

        with _environ(self.project.env):
            try:
                yield
            except DockerException as exc:
                output = REDACTOR.redact(f"{exc.stdout or ''}\n{exc.stderr or ''}".strip())
                raise CommandFailed(list(exc.docker_command), exc.return_code, output, hint=what) from None

    def up(self, *, build: bool, on_line: LineSink) -> None:
        with self._translated("docker compose up failed"):
            self._client().compose.up(detach=True, build=build, remove_orphans=True)

    def down(self, *, volumes: bool, on_line: LineSink) -> None:
        with self._translated("docker compose down failed"):
            self._client().compose.down(volumes=volumes, remove_orphans=True)

    def logs(self, services: Sequence[str], *, follow: bool, tail: str, on_line: LineSink) -> None:
        with self._translated("docker compose logs failed"):
            for _source, chunk in self._client().compose.logs(
                list(services), follow=follow, tail=tail, stream=True, no_log_prefix=False
            ):
                for line in chunk.decode("utf-8", "replace").splitlines():
                    on_line(REDACTOR.redact(line))

    def exec(self, service: str, command: Sequence[str], *, interactive: bool) -> int:
        from python_on_whales.exceptions import DockerException

        with _environ(self.project.env):
            try:
                output = self._client().compose.execute(service, list(command), tty=interactive)
            except DockerException as exc:
                return int(exc.return_code or 1)
        if output:
            sys.stdout.write(REDACTOR.redact(str(output)) + "\n")
        return 0

    def config(self) -> str:
        with self._translated("docker compose config failed"):
            return str(self._client().compose.config(return_json=False))


def _v2_available() -> bool:
    try:
        from python_on_whales import DockerClient

        return bool(DockerClient().compose.is_installed())
    except Exception:  # a broken plugin is the same as none: fall back to v1
        return False


COMPOSE_ENV = "SHIPIT_COMPOSE"


@dataclass(frozen=True)
class ComposeTool:
    """The compose implementation found: ``v2`` (the `docker compose` plugin) or ``v1`` (``binary``)."""

    kind: str
    binary: str | None = None

    @property
    def argv(self) -> list[str]:
        return ["docker", "compose"] if self.kind == "v2" else [self.binary or "docker-compose"]


def detect_tool(prefer: str | None = None) -> ComposeTool:
    """`docker compose` v2 when the plugin is there, else `docker-compose` v1 (SHIPIT_COMPOSE=v1|v2 forces one).

    The one detection `shipit local` and `shipit doctor` both use."""
    prefer = prefer or os.environ.get(COMPOSE_ENV)
    v1 = shutil.which("docker-compose")
    if prefer != "v1" and _v2_available():
        return ComposeTool("v2")
    if prefer != "v2" and v1:
        return ComposeTool("v1", v1)
    raise ShipitError(
        "neither `docker compose` (v2) nor `docker-compose` (v1) is installed",
        hint="install the compose plugin (https://docs.docker.com/compose/install/), or use --runtime native",
    )


def detect(project: ComposeProject, *, prefer: str | None = None) -> Compose:
    tool = detect_tool(prefer)
    if tool.kind == "v2":
        return ComposeV2(project)
    assert tool.binary is not None
    return ComposeV1(project, tool.binary)
