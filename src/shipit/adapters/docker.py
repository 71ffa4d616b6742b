"""The one boundary to the Docker engine: python-on-whales plus the docker CLI (through ``process.run``).

Builds use BuildKit through ``docker buildx`` when the CLI has it (python-on-whales ``buildx.build``,
registry cache, build secrets) and the classic builder otherwise. The classic builder is driven through
the docker CLI rather than python-on-whales ``legacy_build``, because ``legacy_build`` prints its log to
this process's stdout, and parallel builds need each line handed to a callback to be prefixed.
``docker login`` and ``docker push`` also go through the CLI: the token travels on stdin, and push
output is streamed the same way.

The docker host and config directory come from DOCKER_HOST / DOCKER_CONFIG as for the docker CLI.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from shipit.adapters.process import run, which
from shipit.errors import RemoteError, ToolError

LineSink = Callable[[str], None]
_DOCKER_HINT = "install Docker (https://docs.docker.com/engine/install/) and check DOCKER_HOST"


@dataclass(frozen=True)
class BuildSpec:
    """One image build. ``secrets`` maps secret ids to values; values never reach argv, logs or repr."""

    context: Path
    dockerfile: Path
    tags: tuple[str, ...]
    target: str | None = None
    args: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    platform: str | None = None
    secrets: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    # image repository used as the BuildKit registry cache (REPO:buildcache); ignored by the classic builder
    cache_repo: str | None = None


@dataclass(frozen=True)
class BuildOutcome:
    ok: bool
    image_id: str | None
    log: tuple[str, ...]


BUILDER_ENV = "SHIPIT_BUILDER"


@dataclass(frozen=True)
class Builder:
    buildx: bool  # BuildKit via buildx, else the classic builder
    forced: bool  # chosen by SHIPIT_BUILDER rather than detected


class Docker:
    """A Docker engine, as seen by shipit. Thread-safe: each call runs its own docker CLI process."""

    def __init__(self, *, env: Mapping[str, str] | None = None) -> None:
        # Extra environment for every docker CLI process (tests pass DOCKER_HOST/DOCKER_CONFIG here).
        self._env = dict(env or {})

    # -- capabilities ---------------------------------------------------------------------
    @cached_property
    def cli(self) -> str:
        return which("docker", hint=_DOCKER_HINT)

    def _cli_env(self) -> dict[str, str]:
        return dict(self._env)

    @cached_property
    def _whales(self) -> Any:
        from python_on_whales import DockerClient

        host = self._env.get("DOCKER_HOST") or os.environ.get("DOCKER_HOST")
        config = self._env.get("DOCKER_CONFIG") or os.environ.get("DOCKER_CONFIG")
        return DockerClient(host=host, config=config)

    @cached_property
    def builder(self) -> Builder:
        """Which builder builds use: BuildKit via buildx when installed; SHIPIT_BUILDER=classic|buildx forces it."""
        forced = os.environ.get(BUILDER_ENV, "").lower()
        if forced in ("classic", "legacy"):
            return Builder(False, forced=True)
        if forced == "buildx":
            return Builder(True, forced=True)
        return Builder(self.buildx_version() is not None, forced=False)

    @property
    def has_buildx(self) -> bool:
        return self.builder.buildx

    def buildx_version(self) -> str | None:
        """`docker buildx version`, or None when the plugin is missing."""
        result = run([self.cli, "buildx", "version"], env=self._cli_env(), check=False, timeout=30)
        return (result.stdout.strip() or "installed") if result.returncode == 0 else None

    @cached_property
    def buildx_driver(self) -> str:
        try:
            return str(self._whales.buildx.inspect().driver)
        except Exception:
            return "docker"

    @cached_property
    def server_arch(self) -> str | None:
        """The engine's platform, e.g. linux/amd64 (None when the engine does not answer)."""
        result = run(
            [self.cli, "version", "--format", "{{.Server.Os}}/{{.Server.Arch}}"],
            env=self._cli_env(),
            check=False,
            timeout=30,
        )
        return result.stdout.strip() or None if result.returncode == 0 else None

    def ping(self) -> None:
        """Raise a ToolError that says how to fix it when no engine answers."""
        result = run([self.cli, "version", "--format", "{{.Server.Version}}"], env=self._cli_env(), check=False)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ToolError(
                "the Docker engine does not answer" + (f": {detail[-1]}" if detail else ""),
                hint="start Docker, or point DOCKER_HOST at a running engine",
            )

    # -- images ---------------------------------------------------------------------------
    def image_id(self, ref: str) -> str | None:
        result = run(
            [self.cli, "image", "inspect", "--format", "{{.Id}}", ref], env=self._cli_env(), check=False, timeout=60
        )
        return result.stdout.strip() or None if result.returncode == 0 else None

    def image_exists(self, ref: str) -> bool:
        return self.image_id(ref) is not None

    def tag(self, source: str, target: str) -> None:
        self._whales.image.tag(source, target)

    def remove(self, *refs: str) -> None:
        """Untag/remove images; missing ones are ignored."""
        if refs:
            run([self.cli, "image", "rm", "--force", *refs], env=self._cli_env(), check=False, timeout=120)

    # -- build ----------------------------------------------------------------------------
    def build(self, spec: BuildSpec, on_line: LineSink) -> BuildOutcome:
        if self.has_buildx:
            return self._build_buildx(spec, on_line)
        if spec.secrets:
            # The classic builder has no secret mounts; passing them as build args would bake them
            # into the image history, so refuse instead.
            raise ToolError(
                "build secrets need BuildKit, and the docker CLI has no buildx plugin",
                hint="install docker-buildx (https://github.com/docker/buildx#installing)",
            )
        return self._build_classic(spec, on_line)

    def _build_classic(self, spec: BuildSpec, on_line: LineSink) -> BuildOutcome:
        workdir = Path(tempfile.mkdtemp(prefix="shipit-build-"))
        iidfile = workdir / "iid"
        try:
            argv = classic_build_argv(self.cli, spec, iidfile)
            lines: list[str] = []
            noise = _DeprecationFilter()

            def sink(line: str) -> None:
                if noise.drop(line):
                    return
                lines.append(line)
                on_line(line)

            result = run(argv, env={**self._cli_env(), "DOCKER_BUILDKIT": "0"}, check=False, on_line=sink)
            image_id = iidfile.read_text().strip() if iidfile.exists() else None
            ok = result.returncode == 0 and bool(image_id)
            return BuildOutcome(ok, image_id if ok else None, tuple(lines))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _build_buildx(self, spec: BuildSpec, on_line: LineSink) -> BuildOutcome:
        # Build secrets reach BuildKit through environment variables of the buildx process only
        # (`--secret id=KEY,env=VAR`): never argv (`ps`), never a file, never the image.
        secret_env = {f"SHIPIT_BUILD_SECRET_{i}": value for i, (_, value) in enumerate(spec.secrets)}
        argv = buildx_build_argv(self.cli, spec, self.buildx_driver)
        lines: list[str] = []

        def sink(line: str) -> None:
            lines.append(line)
            on_line(line)

        result = run(argv, env={**self._cli_env(), **secret_env}, check=False, on_line=sink)
        image_id = self.image_id(spec.tags[0]) if spec.tags and result.returncode == 0 else None
        return BuildOutcome(image_id is not None, image_id, tuple(lines))

    # -- registry -------------------------------------------------------------------------
    def login(self, host: str, username: str, password: str) -> None:
        """docker login with the password on stdin (never in argv)."""
        result = run(
            [self.cli, "login", "--username", username, "--password-stdin", host],
            env=self._cli_env(),
            stdin=password,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            detail = " ".join((result.stderr or result.stdout).split())
            if "unauthorized" in detail.lower() or "401" in detail:
                raise RemoteError(
                    f"docker login to {host} was refused: the access token was not accepted",
                    hint="refresh the credentials (`gcloud auth application-default login`) and check that the "
                    "account has roles/artifactregistry.writer",
                )
            raise RemoteError(f"docker login to {host} failed: {detail}", hint="check the registry host and network")

    def push(self, ref: str, on_line: LineSink) -> None:
        lines: list[str] = []

        def sink(line: str) -> None:
            lines.append(line)
            on_line(line)

        result = run([self.cli, "push", ref], env=self._cli_env(), check=False, on_line=sink)
        if result.returncode != 0:
            tail = "\n".join(lines[-10:])
            lowered = tail.lower()
            hint = None
            if "denied" in lowered or "unauthorized" in lowered or "authentication required" in lowered:
                hint = "the registry refused the credentials: check roles/artifactregistry.writer"
            elif "name unknown" in lowered or "not found" in lowered:
                hint = "the repository does not exist: run `shipit push` (it creates it) or `shipit infra apply`"
            raise RemoteError(f"docker push {ref} failed:\n{tail}", hint=hint)


class _DeprecationFilter:
    """Drops the docker CLI's three-line "legacy builder is deprecated" banner from build logs."""

    def __init__(self) -> None:
        self._in_banner = False

    def drop(self, line: str) -> bool:
        if line.startswith("DEPRECATED: The legacy builder is deprecated"):
            self._in_banner = True
            return True
        if self._in_banner and line.startswith(" ") and line.strip():
            return True
        self._in_banner = False
        return False


def classic_build_argv(cli: str, spec: BuildSpec, iidfile: Path) -> list[str]:
    argv = [cli, "build", "--file", str(spec.dockerfile), "--iidfile", str(iidfile)]
    if spec.platform:
        argv += ["--platform", spec.platform]
    if spec.target:
        argv += ["--target", spec.target]
    for key, value in spec.args:
        argv += ["--build-arg", f"{key}={value}"]
    for key, value in spec.labels:
        argv += ["--label", f"{key}={value}"]
    for tag in spec.tags:
        argv += ["--tag", tag]
    argv.append(str(spec.context))
    return argv


def buildx_build_argv(cli: str, spec: BuildSpec, driver: str) -> list[str]:
    """`docker buildx build` arguments. Secrets by name only: their values are in SHIPIT_BUILD_SECRET_N."""
    argv = [cli, "buildx", "build", "--progress", "plain", "--load", "--file", str(spec.dockerfile)]
    # Cloud Run rejects the attestation manifests buildx adds by default (docker/buildx#1533).
    argv += ["--provenance", "false"]
    if spec.platform:
        argv += ["--platform", spec.platform]
    if spec.target:
        argv += ["--target", spec.target]
    for key, value in spec.args:
        argv += ["--build-arg", f"{key}={value}"]
    for key, value in spec.labels:
        argv += ["--label", f"{key}={value}"]
    for i, (key, _) in enumerate(spec.secrets):
        argv += ["--secret", f"id={key},env=SHIPIT_BUILD_SECRET_{i}"]
    if spec.cache_repo:
        cache_ref = f"{spec.cache_repo}:buildcache"
        argv += ["--cache-from", f"type=registry,ref={cache_ref}"]
        # The default "docker" driver cannot export a cache; a docker-container builder can.
        if driver != "docker":
            argv += ["--cache-to", f"type=registry,ref={cache_ref},mode=max"]
    for tag in spec.tags:
        argv += ["--tag", tag]
    argv.append(str(spec.context))
    return argv
