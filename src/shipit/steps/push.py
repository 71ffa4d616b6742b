"""Step `push`: make sure the Artifact Registry repository exists, push what the registry lacks, record digests.

plan: the repository (read through the Artifact Registry API; when missing, created as a planned change
without infrastructure, or a stop asking for `shipit infra apply` when Terraform owns it), then
for each image a HEAD of ``REPO:c-<hash>`` on the registry: present -> nothing to upload (its digest is the
result; a missing ``git-<sha>`` tag is added through the registry API, no upload); absent -> push.
apply: ``docker login`` with an OAuth access token as ``oauth2accesstoken`` (token on stdin), ``docker push``,
then read the pushed digest back from the registry.

Result (:class:`shipit.results.PushResult`): ``{service: "HOST/PROJECT/REPO/SERVICE@sha256:..."}``;
``predict`` gives ``REPO:c-<hash>`` for images not pushed yet. Pushed digests are also recorded in
``.shipit/images/ENV.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipit.errors import ShipitError, UsageError
from shipit.names import MANAGED_BY, MANAGER, owner_labels
from shipit.plan import Action, Change, FieldDiff, Plan
from shipit.remote import REGISTRY_USER
from shipit.results import BuildResult, PushResult
from shipit.steps.images import (
    ImageSpec,
    build_of,
    buildable,
    manages_artifact_registry,
    parallel,
    resolve_images,
    select_services,
    with_sidecars,
)
from shipit.steps.ownership import infra_creates_in_this_run, missing_error, terraform_owns
from shipit.steps.resolver import earlier

if TYPE_CHECKING:
    from shipit.adapters.registry import RegistryClient
    from shipit.config import Target
    from shipit.steps.build import BuiltImage
    from shipit.steps.context import StepContext

STEP = "push"
RECORD_DIR = Path(".shipit") / "images"


@dataclass(frozen=True)
class RepositoryItem:
    name: str


@dataclass(frozen=True)
class PushItem:
    service: str
    status: str  # "push", "retag" (only the git tag is missing), "present", "given", "prebuilt"
    spec: ImageSpec | None = None
    digest: str | None = None
    image: str | None = None  # given/prebuilt reference
    by_build: bool = False  # "push": Cloud Build pushes it in the build step (nothing left to upload then)


def _repository_name(target: Target) -> str:
    from shipit.names import repository_name

    return repository_name(target.project, target.registry_location, target.repository)


def _specs(ctx: StepContext, names: Sequence[str]) -> tuple[list[ImageSpec], set[str]]:
    """The images to push and which of them the build step has yet to build (planned, not built)."""
    result = earlier(ctx, BuildResult)
    built: Mapping[str, BuiltImage] = result.images if result is not None else {}
    if built and all(n in built for n in names):
        specs = [b.spec for b in (built[n] for n in names) if b.spec is not None]
        return specs, {b.service for b in built.values() if b.source == "planned"}
    from shipit.adapters.git import git_info

    return resolve_images(ctx.target, names, git_info(ctx.target.root)), set()


def plan(ctx: StepContext, services: Sequence[str] | None = None) -> Plan:
    target = ctx.target
    names = with_sidecars(target, select_services(target, services))
    given = dict(ctx.options.images)
    to_push, prebuilt = buildable(target, [n for n in names if n not in given])
    specs, planned = _specs(ctx, to_push)
    built = earlier(ctx, BuildResult)
    remote = {b.service for b in (built.images.values() if built else ()) if b.engine == "cloudbuild"}
    changes: list[Change] = []
    notes: list[str] = []

    repository_missing = False
    if manages_artifact_registry(target):
        name = _repository_name(target)
        offline = ctx.options.offline
        existing = None if offline else ctx.remote.artifacts.get_repository(name)
        if existing is None and terraform_owns(target, "repository"):
            # One owner: Terraform declares the repository, so shipit never creates it (see steps.ownership).
            repository_missing = True
            if offline or infra_creates_in_this_run(ctx):
                notes.append(f"repository {name} is created by Terraform (the infra step), not by push")
            else:
                raise missing_error(target, "Artifact Registry repository", [name])
        elif existing is None:
            repository_missing = True
            changes.append(
                Change(
                    STEP,
                    Action.CREATE,
                    f"repository {name}",
                    "Artifact Registry, format DOCKER (created by shipit: infrastructure is not enabled)",
                    (FieldDiff("labels", None, f"{MANAGED_BY}={MANAGER}"),),
                    payload=RepositoryItem(name),
                )
            )
        elif existing.format != "DOCKER":
            raise UsageError(
                f"Artifact Registry repository {name} exists with format {existing.format}, not DOCKER",
                hint="set registry.repository in shipit.yaml to another name",
            )
        else:
            changes.append(Change(STEP, Action.NOOP, f"repository {name}", "exists", payload=RepositoryItem(name)))
    else:
        notes.append(f"{target.registry_host} is not Artifact Registry: shipit does not manage its repositories")

    client = ctx.remote.registry if specs and not ctx.options.offline else None
    if ctx.options.offline:
        notes.append("offline: planned as if the repository and its images did not exist")
    engine = ctx.remote.docker

    def check(spec: ImageSpec) -> PushItem:
        digest = None
        if client is not None and not repository_missing:
            digest = client.manifest_digest(spec.repository_path, spec.tag)
        if digest:
            assert client is not None
            if spec.git_tag and client.manifest_digest(spec.repository_path, spec.git_tag) != digest:
                return PushItem(spec.service, "retag", spec, digest)
            return PushItem(spec.service, "present", spec, digest)
        if spec.service not in planned and not engine.image_exists(spec.ref):
            raise UsageError(
                f"image {spec.ref} of service '{spec.service}' is neither built nor in the registry",
                hint=f"run `shipit build {spec.service}` first",
            )
        return PushItem(spec.service, "push", spec, by_build=spec.service in remote)

    items = {i.service: i for i in parallel(check, specs)}
    for name in names:
        if name in given:
            items[name] = PushItem(name, "given", image=given[name])
        elif name in prebuilt:
            items[name] = PushItem(name, "prebuilt", image=build_of(target, name)[1])
    changes.extend(_change(items[n]) for n in names)
    return Plan.of(STEP, changes, notes)


def _change(item: PushItem) -> Change:
    resource = f"image {item.service}"
    spec = item.spec
    if spec is None:
        return Change(STEP, Action.NOOP, resource, f"{item.status}: {item.image}", payload=item)
    if item.status == "push":
        tags = ", ".join(t for t in (spec.tag, spec.git_tag) if t)
        what = f"pushed by Cloud Build: {spec.ref}" if item.by_build else f"push {spec.ref}"
        return Change(STEP, Action.CREATE, resource, what, (FieldDiff("tags", None, tags),), item)
    if item.status == "retag":
        return Change(
            STEP,
            Action.UPDATE,
            resource,
            f"{spec.repo}@{item.digest}: add tag {spec.git_tag} (no upload)",
            (FieldDiff("tags", spec.tag, f"{spec.tag}, {spec.git_tag}"),),
            item,
        )
    return Change(STEP, Action.NOOP, resource, f"{spec.repo}@{item.digest} already in the registry", payload=item)


def _reference(item: PushItem) -> str:
    if item.spec is None:
        assert item.image is not None
        return item.image
    if item.digest:
        return f"{item.spec.repo}@{item.digest}"
    return item.spec.ref


def predict(ctx: StepContext, plan: Plan) -> PushResult:
    return PushResult({c.payload.service: _reference(c.payload) for c in plan if isinstance(c.payload, PushItem)})


def apply(ctx: StepContext, plan: Plan) -> PushResult:
    target = ctx.target
    for change in plan.pending:
        if isinstance(change.payload, RepositoryItem):
            ctx.remote.artifacts.create_docker_repository(
                change.payload.name,
                labels=owner_labels(target.app, target.env_name),
                description=f"Container images of {target.app} (created by shipit)",
            )
            ctx.console.event("repository_created", name=change.payload.name)
    items: list[PushItem] = [_pushed_by_build(ctx, c.payload) for c in plan if isinstance(c.payload, PushItem)]
    done: dict[str, PushItem] = {i.service: i for i in items if i.status not in ("push", "retag")}
    work = [i for i in items if i.status in ("push", "retag")]
    if work:
        client = ctx.remote.registry
        done.update(_push_all(ctx, client, work))
    result = {i.service: _reference(done[i.service]) for i in items}
    _record(target, {s: r for s, r in result.items() if "@sha256:" in r})
    return PushResult(result)


def _pushed_by_build(ctx: StepContext, item: PushItem) -> PushItem:
    """An image built on Cloud Build is already in the registry with all its tags: nothing to push."""
    if item.status != "push":
        return item
    built = earlier(ctx, BuildResult)
    image = built.images.get(item.service) if built is not None else None
    if image is None or image.source != "cloudbuild" or not image.digest:
        return item
    return PushItem(item.service, "present", item.spec, image.digest)


def _push_all(ctx: StepContext, client: RegistryClient, work: Sequence[PushItem]) -> dict[str, PushItem]:
    from concurrent.futures import ThreadPoolExecutor

    from shipit.adapters.gcp.auth import access_token
    from shipit.steps.buildlog import LiveLog

    engine = ctx.remote.docker
    if any(i.status == "push" for i in work):
        engine.ping()
        engine.login(ctx.target.registry_host, REGISTRY_USER, access_token())

    def push_one(item: PushItem) -> PushItem:
        spec = item.spec
        assert spec is not None
        started = time.monotonic()
        live.start(item.service)
        try:
            digest = item.digest
            if item.status == "push":
                engine.push(spec.ref, live.sink(item.service))
                digest = client.manifest_digest(spec.repository_path, spec.tag)
                if digest is None:
                    raise ShipitError(f"pushed {spec.ref}, but the registry does not list it")
            assert digest is not None
            if spec.git_tag:
                client.add_tag(spec.repository_path, digest, spec.git_tag)
        except ShipitError:
            live.finish(item.service, False, f"after {time.monotonic() - started:.1f}s")
            raise
        live.finish(item.service, True, f"{digest} in {time.monotonic() - started:.1f}s")
        ctx.console.event("image_pushed", service=item.service, image=f"{spec.repo}@{digest}")
        return PushItem(item.service, item.status, spec, digest)

    jobs = max(1, min(ctx.options.jobs, len(work)))
    with LiveLog(ctx.console, [i.service for i in work], verb="push") as live, ThreadPoolExecutor(jobs) as pool:
        pushed = list(pool.map(push_one, work))
    return {i.service: i for i in pushed}


def record_path(target: Target) -> Path:
    return target.root / RECORD_DIR / f"{target.env_name}.json"


def _record(target: Target, images: dict[str, str]) -> None:
    """Merge the pushed digests into .shipit/images/ENV.json (what was last pushed, per service)."""
    if not images:
        return
    path = record_path(target)
    try:
        current = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        current = {}
    current.update(images)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def recorded_images(target: Target) -> dict[str, str]:
    """The digests last pushed for this environment (``{service: image@sha256:...}``), or {}."""
    try:
        data = json.loads(record_path(target).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
