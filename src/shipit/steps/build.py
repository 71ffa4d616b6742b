"""Step `build`: production images, tagged by content, built only when neither the engine nor the registry has them.

plan: hash every service's build inputs (``contexthash``), then ask the local engine and the registry whether
``REPO:c-<hash>`` exists. apply: build the missing ones in parallel (bounded by ``RunOptions.concurrency``),
with live per-service logs; a failure cancels the builds not yet started and lets the running ones finish.

Result (:class:`shipit.results.BuildResult`): ``{service: BuiltImage}``, for this run only (it describes
the local engine, so it is not kept in the state file).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from shipit.errors import ShipitError, ToolError, UsageError
from shipit.plan import Action, Change, FieldDiff, Plan
from shipit.results import BuildResult
from shipit.steps.images import (
    ImageSpec,
    build_of,
    buildable,
    parallel,
    resolve_images,
    select_services,
    with_sidecars,
)

if TYPE_CHECKING:
    from shipit.adapters.docker import Docker
    from shipit.adapters.git import GitInfo
    from shipit.adapters.registry import RegistryClient
    from shipit.steps.context import StepContext

STEP = "build"


@dataclass(frozen=True)
class BuildItem:
    """The plan's instruction for one service (Change.payload)."""

    service: str
    status: str  # "build", "local" (engine has it), "registry" (registry has it), "given", "prebuilt"
    spec: ImageSpec | None = None
    image: str | None = None  # for "given"/"prebuilt": the image reference to use
    digest: str | None = None  # for "registry": the digest it has
    tag_locally: bool = False  # "local": the git tag is missing from the engine
    engine: str = "local"  # where a "build" runs: local or cloudbuild
    upload_bytes: int | None = None  # cloudbuild: size of the packed context


@dataclass(frozen=True)
class BuiltImage:
    service: str
    ref: str  # REPO:c-<hash>, or the given/prebuilt image
    tags: tuple[str, ...]
    source: str  # built, cloudbuild (built remotely and pushed), local, registry, planned, given, prebuilt
    image_id: str | None = None
    digest: str | None = None  # registry digest, when known
    spec: ImageSpec | None = None
    engine: str = "local"  # cloudbuild: built (or to be built) and pushed by Cloud Build


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _git(ctx: StepContext) -> GitInfo:
    from shipit.adapters.git import git_info

    return git_info(ctx.target.root)


def _check_secrets(ctx: StepContext, specs: Sequence[ImageSpec]) -> None:
    wanted = {k for s in specs for k in s.secret_ids}
    if not wanted:
        return
    from shipit.envfile import read_env_file

    target = ctx.target
    env = read_env_file(target.env_file, str(target.env_file.name))
    missing = sorted(wanted - set(env.values))
    if missing:
        raise UsageError(
            f"build secrets {', '.join(missing)} are not in {env.display}",
            hint=f"add KEY=value lines to {env.display} (it stays on this machine; values are passed to BuildKit only)",
        )


def engine_of(ctx: StepContext, key: str) -> str:
    """Where image ``key`` (a service, or SERVICE.SIDECAR) is built: --engine, else its own build.engine,
    else (a sidecar) its service's, else the top-level build.engine."""
    if ctx.options.build_engine:
        return ctx.options.build_engine
    for owner in dict.fromkeys((key, key.partition(".")[0])):
        build = build_of(ctx.target, owner)[0]
        if build is not None and build.engine:
            return build.engine
    return ctx.target.config.build.engine


def _check_remote_secrets(ctx: StepContext, specs: Sequence[ImageSpec]) -> None:
    """A remote build reads its build secrets from Secret Manager: they must be secrets shipit syncs."""
    from shipit.render.terraform import terraform_secret_keys

    synced = set(terraform_secret_keys(ctx.target.config))
    missing = sorted({k for s in specs for k in s.secret_ids} - synced)
    if missing:
        raise UsageError(
            f"{ctx.target.config_file}: build secrets {', '.join(missing)} are needed on Cloud Build, "
            "which reads them from Secret Manager",
            hint=f"add them to secrets.extra ({', '.join(missing)}) and run `shipit secrets sync`",
        )


def plan(ctx: StepContext, services: Sequence[str] | None = None) -> Plan:
    target = ctx.target
    names = with_sidecars(target, select_services(target, services))
    given = dict(ctx.options.images)
    built, prebuilt = buildable(target, [n for n in names if n not in given])
    specs = resolve_images(target, built, _git(ctx))
    engines = {s.service: engine_of(ctx, s.service) for s in specs}
    local_specs = [s for s in specs if engines[s.service] == "local"]
    notes: list[str] = []
    for spec in specs:
        if spec.skipped:
            first = ", ".join(spec.skipped[:3]) + (
                f" and {len(spec.skipped) - 3} more" if len(spec.skipped) > 3 else ""
            )
            notes.append(
                f"{spec.service}: skipped unreadable build context entries: {first} (add them to .dockerignore)"
            )
    items: dict[str, BuildItem] = {n: BuildItem(n, "given", image=given[n]) for n in names if n in given}
    for name in prebuilt:
        items[name] = BuildItem(name, "prebuilt", image=build_of(target, name)[1])

    engine: Docker | None = ctx.remote.docker if local_specs else None
    try:
        if engine is not None:
            engine.ping()
    except ToolError as exc:
        notes.append(f"local engine not checked: {exc.message}")
        engine = None
    registry_errors: list[str] = []

    def local(spec: ImageSpec) -> BuildItem | None:
        # An image built remotely is only ever looked up in the registry: that is where Cloud Run pulls it.
        if engine is None or engines[spec.service] != "local" or not engine.image_exists(spec.ref):
            return None
        missing_git = spec.git_ref is not None and not engine.image_exists(spec.git_ref)
        return BuildItem(spec.service, "local", spec, tag_locally=missing_git)

    found = dict(zip([s.service for s in specs], parallel(local, specs), strict=True))
    misses = [s for s in specs if found[s.service] is None]
    client: RegistryClient | None = None
    if misses and ctx.options.offline:
        notes.append(f"offline: registry {target.registry_host} not checked")
    elif misses:
        # Only now: getting a token costs an import and maybe a credentials round trip.
        try:
            client = ctx.remote.registry
        except ShipitError as exc:
            notes.append(f"registry {target.registry_host} not checked: {exc.message}")

    def check(spec: ImageSpec) -> BuildItem:
        hit = found[spec.service]
        if hit is not None:
            return hit
        if client is not None:
            try:
                digest = client.manifest_digest(spec.repository_path, spec.tag)
            except ShipitError as exc:
                registry_errors.append(exc.message)
                digest = None
            if digest:
                return BuildItem(spec.service, "registry", spec, digest=digest)
        if engines[spec.service] == "cloudbuild":
            return BuildItem(spec.service, "build", spec, engine="cloudbuild", upload_bytes=_upload_size(spec))
        return BuildItem(spec.service, "build", spec)

    for item in parallel(check, specs):
        items[item.service] = item
    if registry_errors:
        notes.append(f"registry {target.registry_host} not checked: {registry_errors[0]}")

    to_build = [i.spec for i in items.values() if i.status == "build" and i.spec is not None and i.engine == "local"]
    remote = [i for i in items.values() if i.status == "build" and i.engine == "cloudbuild"]
    _check_remote_secrets(ctx, [i.spec for i in remote if i.spec is not None])
    if remote:
        from shipit.steps.remotebuild import settings

        conf = settings(target)
        where = f"pool {conf.pool}" if conf.pool else (conf.machine_type or "default pool")
        total = sum(i.upload_bytes or 0 for i in remote)
        notes.append(
            f"Cloud Build ({conf.region}, {where}): {len(remote)} build(s), upload {_size(total)} "
            f"to gs://{conf.bucket}, at most {conf.concurrency} at once"
        )
    if to_build and engine is not None:
        if any(s.secret_ids for s in to_build) and not engine.has_buildx:
            raise ToolError(
                "build secrets need BuildKit, and the docker CLI has no buildx plugin: "
                + ", ".join(s.service for s in to_build if s.secret_ids),
                hint="install docker-buildx (https://github.com/docker/buildx#installing)",
            )
        arch = engine.server_arch
        for platform in sorted({s.platform for s in to_build}):
            if arch and arch != platform:
                notes.append(
                    f"the engine runs {arch}; images are built for {platform} (Cloud Run runs linux/amd64): "
                    "emulated builds are slower" + ("" if engine.has_buildx else " and need BuildKit")
                )
    _check_secrets(ctx, to_build)
    if any(s.git_tag is None for s in specs):
        notes.append("no git-<sha> tag for services with uncommitted changes (or outside a git repository)")

    changes = [_change(items[n]) for n in names]
    return Plan.of(STEP, changes, notes)


def _change(item: BuildItem) -> Change:
    spec = item.spec
    resource = f"image {item.service}"
    if spec is None:
        what = "given with --image" if item.status == "given" else "prebuilt image"
        return Change(STEP, Action.NOOP, resource, f"{what}: {item.image}", payload=item)
    if item.status == "build" and item.engine == "cloudbuild":
        upload = _size(item.upload_bytes or 0)
        summary = f"{spec.ref}  on Cloud Build ({spec.files} files, upload {upload}, {spec.platform})"
        diffs = (FieldDiff("tags", None, ", ".join(t for t in (spec.tag, spec.git_tag) if t)),)
        return Change(STEP, Action.CREATE, resource, summary, diffs, payload=item)
    if item.status == "build":
        summary = f"{spec.ref}  ({spec.files} files, {_size(spec.bytes)}, {spec.platform})"
        diffs = (FieldDiff("tags", None, ", ".join(t for t in (spec.tag, spec.git_tag) if t)),)
        return Change(STEP, Action.CREATE, resource, summary, diffs, payload=item)
    where = "in the local engine" if item.status == "local" else f"in the registry ({item.digest})"
    return Change(STEP, Action.NOOP, resource, f"{spec.ref} cached {where}", payload=item)


def _upload_size(spec: ImageSpec) -> int:
    from shipit.contextpack import pack_context

    try:
        return pack_context(spec.context, spec.dockerfile).size
    except OSError as exc:
        raise UsageError(
            f"build context of service '{spec.service}' cannot be packed: {exc.strerror or exc}",
            hint="fix the permissions or exclude the entry in .dockerignore",
        ) from None


def _labels(spec: ImageSpec, git: GitInfo, created: str) -> tuple[tuple[str, str], ...]:
    # Few labels on purpose: the classic builder turns each into a build step (a layer commit).
    labels = {"org.opencontainers.image.created": created}
    if git.sha:
        labels["org.opencontainers.image.revision"] = git.sha
    if git.source:
        labels["org.opencontainers.image.source"] = git.source
    return tuple(sorted(labels.items()))


def _result(item: BuildItem, source: str, image_id: str | None = None) -> BuiltImage:
    spec = item.spec
    if spec is None:
        assert item.image is not None
        return BuiltImage(item.service, item.image, (), item.status)
    return BuiltImage(item.service, spec.ref, spec.refs, source, image_id, item.digest, spec, item.engine)


def predict(ctx: StepContext, plan: Plan) -> BuildResult:
    """What apply will return, for planning later steps before anything is built."""
    out: dict[str, BuiltImage] = {}
    for change in plan:
        item: BuildItem = change.payload
        out[item.service] = _result(item, "planned" if item.status == "build" else item.status)
    return BuildResult(out)


def apply(ctx: StepContext, plan: Plan) -> BuildResult:
    return BuildResult(_apply(ctx, plan))


def _apply(ctx: StepContext, plan: Plan) -> dict[str, BuiltImage]:
    items: list[BuildItem] = [c.payload for c in plan]
    results = {i.service: _result(i, i.status) for i in items if i.status != "build"}
    engine = ctx.remote.docker
    for item in items:
        if item.tag_locally and item.spec is not None and item.spec.git_ref:
            engine.tag(item.spec.ref, item.spec.git_ref)
    todo = [i for i in items if i.status == "build" and i.engine == "local"]
    remote = [i for i in items if i.status == "build" and i.engine == "cloudbuild"]
    if not todo and not remote:
        return results
    git = _git(ctx)
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if todo:
        engine.ping()
        secrets = _secret_values(ctx, todo)
        results.update(_build_all(ctx, engine, todo, git, created, secrets))
    if remote:
        from shipit.steps.remotebuild import build_remote

        specs = [i.spec for i in remote if i.spec is not None]
        digests = build_remote(ctx, specs, {s.service: _labels(s, git, created) for s in specs})
        for item in remote:
            assert item.spec is not None
            results[item.service] = BuiltImage(
                item.service,
                item.spec.ref,
                item.spec.refs,
                "cloudbuild",
                None,
                digests[item.service],
                item.spec,
                "cloudbuild",
            )
    return {i.service: results[i.service] for i in items}


def _secret_values(ctx: StepContext, todo: Sequence[BuildItem]) -> dict[str, str]:
    wanted = {k for i in todo if i.spec for k in i.spec.secret_ids}
    if not wanted:
        return {}
    from shipit.envfile import read_env_file

    env = read_env_file(ctx.target.env_file, ctx.target.env_file.name)  # registers values with REDACTOR
    return {k: env.values[k] for k in wanted if k in env.values}


def _build_all(
    ctx: StepContext,
    engine: Docker,
    todo: Sequence[BuildItem],
    git: GitInfo,
    created: str,
    secrets: dict[str, str],
) -> dict[str, BuiltImage]:
    from shipit.adapters.docker import BuildSpec
    from shipit.steps.buildlog import LiveLog, diagnose

    console = ctx.console
    results: dict[str, BuiltImage] = {}
    failures: list[ShipitError] = []
    cancelled: list[str] = []
    jobs = max(1, min(ctx.options.jobs, len(todo)))

    def build_one(item: BuildItem) -> BuiltImage:
        spec = item.spec
        assert spec is not None
        live.start(item.service)
        started = time.monotonic()
        outcome = engine.build(
            BuildSpec(
                context=spec.context,
                dockerfile=spec.dockerfile,
                tags=spec.refs,
                target=spec.target,
                args=spec.args,
                labels=_labels(spec, git, created),
                platform=spec.platform,
                secrets=tuple((k, secrets[k]) for k in spec.secret_ids if k in secrets),
                cache_repo=spec.repo,
            ),
            live.sink(item.service),
        )
        seconds = time.monotonic() - started
        if not outcome.ok:
            live.finish(item.service, False, f"after {seconds:.1f}s")
            raise diagnose(item.service, spec.dockerfile, spec.dockerfile_display, outcome.log)
        live.finish(item.service, True, f"{spec.tag} in {seconds:.1f}s")
        console.event("image_built", service=item.service, ref=spec.ref, seconds=round(seconds, 3))
        return _result(item, "built", outcome.image_id)

    with LiveLog(console, [i.service for i in todo], verb="build") as live:
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="shipit-build")
        futures: dict[Future[BuiltImage], BuildItem] = {pool.submit(build_one, i): i for i in todo}
        try:
            for future in as_completed(futures):
                item = futures[future]
                if future.cancelled():
                    cancelled.append(item.service)
                    continue
                exc = future.exception()
                if exc is None:
                    results[item.service] = future.result()
                    continue
                if not isinstance(exc, ShipitError):
                    raise exc
                failures.append(exc)
                # Builds not started yet are cancelled; running ones finish so no half-written state remains.
                for other in futures:
                    other.cancel()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    if failures:
        if cancelled:
            console.warn(f"not built because of the failure: {', '.join(sorted(cancelled))}")
        if len(failures) == 1:
            raise failures[0]
        raise ToolError(
            f"{len(failures)} builds failed:\n" + "\n".join(f.message for f in failures),
            hint="fix the Dockerfiles or the files they use, then re-run",
        )
    return results
