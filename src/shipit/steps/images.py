"""What the build and push steps share: the resolved image of each service (their clients are on ctx.remote).

An image is named ``Target.image_repo(service)`` (HOST/PROJECT/REPOSITORY/SERVICE) and tagged with the
content hash of its build (``c-<hash>``), plus ``git-<sha12>`` when the service's context has no
uncommitted change (a tag that names a commit must not point at an image of other files).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from shipit.concurrency import bounded_map
from shipit.errors import UsageError

if TYPE_CHECKING:
    from shipit.adapters.git import GitInfo
    from shipit.config import Target
    from shipit.config.build import Build

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ImageSpec:
    """One service's production image, fully resolved (no I/O needed to read it)."""

    service: str
    repo: str
    tag: str  # content tag
    git_tag: str | None
    context: Path
    dockerfile: Path
    dockerfile_display: str
    target: str | None
    args: tuple[tuple[str, str], ...]
    platform: str
    secret_ids: tuple[str, ...]
    files: int = 0
    bytes: int = 0
    skipped: tuple[str, ...] = ()  # unreadable context entries, left out of the hash (and of the build)

    @property
    def ref(self) -> str:
        return f"{self.repo}:{self.tag}"

    @property
    def git_ref(self) -> str | None:
        return f"{self.repo}:{self.git_tag}" if self.git_tag else None

    @property
    def refs(self) -> tuple[str, ...]:
        return (self.ref, self.git_ref) if self.git_ref else (self.ref,)

    @property
    def repository_path(self) -> str:
        """The repository part of the reference, without the host (for the registry API)."""
        return self.repo.split("/", 1)[1]


def select_services(target: Target, names: Sequence[str] | None) -> list[str]:
    """The services to work on, in shipit.yaml order; unknown names are a usage error."""
    known = list(target.config.services)
    if not names:
        return known
    for name in names:
        if name not in known:
            from shipit.config.checks import did_you_mean

            raise UsageError(
                f"service '{name}' is not defined in {target.config_file}",
                hint=did_you_mean(name, known) or f"services: {', '.join(known)}",
            )
    return [n for n in known if n in names]


def sidecar_key(service: str, sidecar: str) -> str:
    """The image name of a sidecar shipit builds: SERVICE.SIDECAR (no service name has a dot)."""
    return f"{service}.{sidecar}"


def with_sidecars(target: Target, names: Sequence[str]) -> list[str]:
    """NAMES, each followed by the image keys of its sidecars that shipit builds (``sidecars.S.build``)."""
    out: list[str] = []
    for name in names:
        out.append(name)
        service = target.config.services[name]
        out.extend(sidecar_key(name, side) for side, sc in service.sidecars.items() if sc.build is not None)
    return out


def build_of(target: Target, key: str) -> tuple[Build | None, str | None, str]:
    """(build, prebuilt image, config path) of an image key: a service, or SERVICE.SIDECAR."""
    service_name, _, side = key.partition(".")
    service = target.config.services[service_name]
    if side:
        sidecar = service.sidecars[side]
        return sidecar.build, sidecar.image, f"services.{service_name}.sidecars.{side}"
    return service.build, service.image, f"services.{service_name}"


def buildable(target: Target, names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(images shipit builds, services that use a prebuilt ``image:``); NAMES are image keys."""
    built: list[str] = []
    prebuilt: list[str] = []
    for name in names:
        build, image, _ = build_of(target, name)
        (prebuilt if image or build is None else built).append(name)
    return built, prebuilt


def display_path(target: Target, path: Path) -> str:
    try:
        return str(path.relative_to(target.root.resolve()))
    except ValueError:
        return str(path)


def resolve_image(target: Target, name: str, git: GitInfo | None) -> ImageSpec:
    from shipit.adapters.git import is_clean
    from shipit.contexthash import MAX_CONTEXT_ENTRIES, BuildInputs, ContextTooLarge, hash_build

    build, _, path = build_of(target, name)
    assert build is not None
    context = target.path(build.context)
    where = f"{target.config_file}: {path}.build"
    if not context.is_dir():
        raise UsageError(
            f"{where}.context: directory {display_path(target, context)} does not exist",
            hint="fix the path (relative to shipit.yaml)",
        )
    try:
        dockerfile = (context / (build.dockerfile or "Dockerfile")).resolve()
    except RuntimeError:  # a symlink loop
        raise UsageError(f"{where}.dockerfile: the path is a symlink loop", hint="fix the link") from None
    if not dockerfile.is_file():
        raise UsageError(
            f"{where}: {display_path(target, dockerfile)} does not exist",
            hint=f"write one with `shipit dockerfile {name} --kind python|node|static`, or set build.dockerfile"
            if "." not in name
            else "write one, or set build.dockerfile",
        )
    args = tuple(sorted((k, str(v)) for k, v in build.args.items()))
    try:
        digest = hash_build(
            BuildInputs(context, dockerfile, build.target, dict(args), build.platform, tuple(build.secrets))
        )
    except ContextTooLarge as exc:
        raise UsageError(
            f"{where}.context: {display_path(target, context)} has more than {MAX_CONTEXT_ENTRIES} files and "
            f"directories not excluded by .dockerignore (at {exc})",
            hint="exclude dependencies and data (node_modules, .venv, data dirs) in a .dockerignore, "
            "or point build.context at the service's own directory",
        ) from None
    git_tag = None
    if git is not None and git.short and is_clean(target.root, context) and is_clean(target.root, dockerfile):
        git_tag = f"git-{git.short}"
    return ImageSpec(
        service=name,
        repo=target.image_repo(name),
        tag=digest.tag,
        git_tag=git_tag,
        context=context,
        dockerfile=dockerfile,
        dockerfile_display=display_path(target, dockerfile),
        target=build.target,
        args=args,
        platform=build.platform,
        secret_ids=tuple(build.secrets),
        files=digest.files,
        bytes=digest.bytes,
        skipped=digest.skipped,
    )


def resolve_images(target: Target, names: Sequence[str], git: GitInfo | None) -> list[ImageSpec]:
    return parallel(lambda n: resolve_image(target, n, git), names)


def parallel(fn: Callable[[T], R], items: Sequence[T], workers: int = 8) -> list[R]:
    """``[fn(x) for x in items]`` on threads (each item does I/O: hashing, docker CLI, HTTP), in order."""
    return bounded_map(fn, items, workers, name="shipit-images")


def manages_artifact_registry(target: Target) -> bool:
    """Whether the registry host is Artifact Registry (or its API is pointed at a fake or a proxy)."""
    return target.registry_host.endswith("-docker.pkg.dev") or bool(
        os.environ.get("CLOUDSDK_API_ENDPOINT_OVERRIDES_ARTIFACTREGISTRY")
    )
