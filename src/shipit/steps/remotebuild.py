"""Builds on Cloud Build: the build body, the upload of the packed context, live logs and failures.

Each build: pack the context (the file set the content hash covers), upload it to the staging bucket as
``source/SERVICE/c-<hash>.tgz`` (content addressed: an existing object is not sent again), start the build
on the regional endpoint, then poll its status and its log object, feeding the log to the same live,
prefixed output as local builds. The pushed digest comes from ``results.images``. Builds run in parallel,
at most ``build.concurrency`` at once; when shipit is interrupted it cancels the builds it started.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipit.errors import ShipitError, ToolError

if TYPE_CHECKING:
    from shipit.adapters.gcp.cloudbuild import BuildState, CloudBuilds
    from shipit.config import Target
    from shipit.steps.buildlog import LineSink
    from shipit.steps.context import StepContext
    from shipit.steps.images import ImageSpec

DOCKER_BUILDER = "gcr.io/cloud-builders/docker"
BUILDX_BUILDER = "shipit"  # a docker-container builder: the default docker driver cannot export a cache
# How often a running build's status and log are read; SHIPIT_CLOUDBUILD_POLL_SECONDS overrides (tests).
POLL_SECONDS = 2.0
# Cloud Build prefixes each line a step prints with the step: `Step #1 - "build": #5 [2/3] RUN make`.
_STEP_PREFIX = re.compile(r'^Step #\d+(?: - "[^"]*")?: ')


def _poll_seconds() -> float:
    try:
        return max(0.05, float(os.environ.get("SHIPIT_CLOUDBUILD_POLL_SECONDS", POLL_SECONDS)))
    except ValueError:
        return POLL_SECONDS


@dataclass(frozen=True)
class Settings:
    """Where and how one environment's remote builds run (resolved from build.cloudbuild)."""

    project: str
    region: str
    bucket: str
    service_account: str
    timeout: int
    pool: str | None
    machine_type: str | None
    concurrency: int


def settings(target: Target) -> Settings:
    from shipit.names import build_bucket, build_service_account

    cb = target.config.build.cloudbuild
    region = cb.region or target.region
    pool = cb.pool
    if pool and "/" not in pool:
        pool = f"projects/{target.project}/locations/{region}/workerPools/{pool}"
    return Settings(
        project=target.project,
        region=region,
        bucket=cb.bucket or build_bucket(target.project),
        service_account=cb.service_account or build_service_account(target.project),
        timeout=cb.timeout,
        pool=pool,
        machine_type=cb.machine_type,
        concurrency=target.config.build.concurrency,
    )


def source_object(spec: ImageSpec) -> str:
    return f"source/{spec.service}/{spec.tag}.tgz"


def build_body(
    target: Target, conf: Settings, spec: ImageSpec, dockerfile: str, labels: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """The Build resource for one image. Secrets by name only: Cloud Build reads them from Secret Manager."""
    cache = f"{spec.repo}:buildcache"
    args = ["buildx", "build", "--builder", BUILDX_BUILDER, "--progress", "plain", "--load"]
    args += ["--provenance", "false", "--platform", spec.platform, "--file", dockerfile]
    if spec.target:
        args += ["--target", spec.target]
    for key, value in spec.args:
        args += ["--build-arg", f"{key}={value}"]
    for key, value in labels:
        args += ["--label", f"{key}={value}"]
    for key in spec.secret_ids:
        args += ["--secret", f"id={key},env={key}"]
    args += ["--cache-from", f"type=registry,ref={cache}", "--cache-to", f"type=registry,ref={cache},mode=max"]
    for ref in spec.refs:
        args += ["--tag", ref]
    args.append(".")
    build_step: dict[str, Any] = {
        "id": "build",
        "name": DOCKER_BUILDER,
        "env": ["DOCKER_BUILDKIT=1"],
        "args": args,
    }
    body: dict[str, Any] = {
        "source": {"storageSource": {"bucket": conf.bucket, "object": source_object(spec)}},
        "steps": [
            {
                "id": "builder",
                "name": DOCKER_BUILDER,
                "args": ["buildx", "create", "--name", BUILDX_BUILDER, "--driver", "docker-container"],
            },
            build_step,
        ],
        "images": list(spec.refs),
        "timeout": f"{conf.timeout}s",
        "serviceAccount": f"projects/{conf.project}/serviceAccounts/{conf.service_account}",
        "logsBucket": f"gs://{conf.bucket}/logs",
        "tags": ["shipit", f"shipit-{spec.service}"],
        "options": {"logging": "GCS_ONLY"},
    }
    if conf.pool:
        body["options"]["pool"] = {"name": conf.pool}
    elif conf.machine_type:
        body["options"]["machineType"] = conf.machine_type
    if spec.secret_ids:
        build_step["secretEnv"] = list(spec.secret_ids)
        body["availableSecrets"] = {
            "secretManager": [
                {
                    "versionName": f"projects/{conf.project}/secrets/{target.secret_id(key)}/versions/latest",
                    "env": key,
                }
                for key in spec.secret_ids
            ]
        }
    return body


class _Started:
    """The builds this run started and not yet saw finish: cancelled when shipit is interrupted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._builds: dict[str, BuildState] = {}
        self.stop = threading.Event()

    def add(self, build: BuildState) -> None:
        with self._lock:
            self._builds[build.id] = build

    def remove(self, build: BuildState) -> None:
        with self._lock:
            self._builds.pop(build.id, None)

    def running(self) -> list[BuildState]:
        with self._lock:
            return list(self._builds.values())


def _failure(spec: ImageSpec, state: BuildState, log: list[str]) -> ShipitError:
    from shipit.steps.buildlog import diagnose

    where = f"(Cloud Build {state.id})"
    if state.status == "TIMEOUT":
        return ToolError(
            f"build of service '{spec.service}' timed out on Cloud Build {where}",
            hint="raise build.cloudbuild.timeout in shipit.yaml, or use a larger machine_type or pool",
        )
    if state.status == "CANCELLED":
        return ToolError(f"build of service '{spec.service}' was cancelled on Cloud Build {where}")
    detail = state.failure or state.status
    if state.failure_type == "USER_BUILD_STEP" or (state.status == "FAILURE" and state.failure_type is None):
        failed = diagnose(spec.service, spec.dockerfile, spec.dockerfile_display, log)
        return ToolError(f"{failed.message}\n  {where}", hint=failed.hint)
    lowered = detail.lower()
    if "quota" in lowered or "resource_exhausted" in lowered:
        return ToolError(
            f"build of service '{spec.service}' failed on Cloud Build: quota exceeded ({detail}) {where}",
            hint="lower build.concurrency, or ask for more Cloud Build quota in the region",
        )
    if "permission" in lowered or "denied" in lowered or state.failure_type == "PUSH_FAILED":
        return ToolError(
            f"build of service '{spec.service}' failed on Cloud Build: {detail} {where}",
            hint="the build service account needs roles/artifactregistry.writer on the repository, "
            "roles/storage.objectViewer on the staging bucket and roles/logging.logWriter "
            "(the generated Terraform grants them: `shipit infra apply`)",
        )
    return ToolError(f"build of service '{spec.service}' failed on Cloud Build: {detail} {where}")


def _run_one(
    api: CloudBuilds,
    conf: Settings,
    target: Target,
    spec: ImageSpec,
    labels: Sequence[tuple[str, str]],
    sink: LineSink,
    started: _Started,
) -> tuple[str, float]:
    """Upload, start, follow. Returns (digest, seconds)."""
    from shipit.contextpack import pack_context

    begin = time.monotonic()
    packed = pack_context(spec.context, spec.dockerfile)
    uploaded = api.upload(conf.bucket, source_object(spec), packed.data)
    again = "" if uploaded else ", already uploaded"
    sink(f"source gs://{conf.bucket}/{source_object(spec)} ({packed.size} bytes{again})")
    if started.stop.is_set():  # interrupted during the upload: start nothing
        raise ToolError(f"build of service '{spec.service}' not started: shipit was interrupted")
    build = api.create(build_body(target, conf, spec, packed.dockerfile, labels))
    started.add(build)
    # Added before looking: an interrupt either sees this build in its cancel pass or is seen here (a second
    # cancel of the same build is harmless).
    if started.stop.is_set():
        api.cancel(build)
        raise ToolError(f"build of service '{spec.service}' cancelled: shipit was interrupted")
    sink(f"Cloud Build {build.id} started")
    offset = 0
    pending = ""
    log: list[str] = []
    state = build
    try:
        while True:
            if started.stop.is_set():
                raise ToolError(f"build of service '{spec.service}' stopped: shipit was interrupted")
            state = api.get(build)
            if state.log_object:
                chunk = api.read_log(conf.bucket, state.log_object, offset)
                offset += len(chunk)
                pending += chunk.decode("utf-8", "replace")
                *lines, pending = pending.split("\n")
                for line in lines:
                    line = _STEP_PREFIX.sub("", line)
                    log.append(line)
                    sink(line)
            if state.done:
                break
            started.stop.wait(_poll_seconds())
    finally:
        if state.done:
            started.remove(build)
    if pending:
        log.append(_STEP_PREFIX.sub("", pending))
        sink(log[-1])
    if state.status != "SUCCESS":
        raise _failure(spec, state, log)
    digest = state.digest_of(spec.ref)
    if not digest:
        raise ToolError(f"Cloud Build {build.id} succeeded but did not report the digest of {spec.ref}")
    return digest, time.monotonic() - begin


def build_remote(
    ctx: StepContext, specs: Sequence[ImageSpec], labels: dict[str, tuple[tuple[str, str], ...]]
) -> dict[str, str]:
    """Build ``specs`` on Cloud Build; ``{service: digest}``. Interrupted: cancels what it started."""
    from shipit.steps.buildlog import LiveLog

    conf = settings(ctx.target)
    api = ctx.remote.cloud_builds(conf.region)
    started = _Started()
    digests: dict[str, str] = {}
    failures: list[ShipitError] = []
    console = ctx.console

    def one(spec: ImageSpec) -> str:
        live.start(spec.service)
        try:
            digest, seconds = _run_one(
                api, conf, ctx.target, spec, labels[spec.service], live.sink(spec.service), started
            )
        except ShipitError:
            live.finish(spec.service, False, "on Cloud Build")
            raise
        live.finish(spec.service, True, f"{spec.tag} on Cloud Build in {seconds:.1f}s")
        console.event("image_built", service=spec.service, ref=spec.ref, seconds=round(seconds, 3), engine="cloudbuild")
        return digest

    with LiveLog(console, [s.service for s in specs], verb="build") as live:
        pool = ThreadPoolExecutor(max_workers=max(1, min(conf.concurrency, len(specs))), thread_name_prefix="shipit-cb")
        futures: dict[Future[str], ImageSpec] = {pool.submit(one, s): s for s in specs}
        try:
            for future in as_completed(futures):
                spec = futures[future]
                if future.cancelled():
                    continue
                exc = future.exception()
                if exc is None:
                    digests[spec.service] = future.result()
                elif isinstance(exc, ShipitError):
                    failures.append(exc)
                    for other in futures:
                        other.cancel()
                else:
                    raise exc
        except BaseException:
            # Interrupted (or a bug): builds keep running on Cloud Build unless cancelled.
            started.stop.set()
            for other in futures:
                other.cancel()
            for build in started.running():
                try:
                    api.cancel(build)
                    console.warn(f"cancelled Cloud Build {build.id}")
                except ShipitError as exc:
                    console.warn(f"could not cancel Cloud Build {build.id}: {exc.message}")
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    if failures:
        if len(failures) == 1:
            raise failures[0]
        raise ToolError(
            f"{len(failures)} builds failed:\n" + "\n".join(f.message for f in failures),
            hint="fix the Dockerfiles or the files they use, then re-run",
        )
    return digests
