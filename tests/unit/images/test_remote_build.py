"""Remote builds, the local parts: the packed context, where each service is built, the Build body and how a
finished build's failure is told."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from shipit.adapters.gcp.cloudbuild import BuildState
from shipit.config import load_config, resolve_target
from shipit.config.target import Target
from shipit.contexthash import context_entries
from shipit.contextpack import DOCKERFILE_OUTSIDE, pack_context
from shipit.errors import ConfigError, ToolError
from shipit.output import Console
from shipit.steps.build import engine_of
from shipit.steps.context import RunOptions, StepContext
from shipit.steps.images import resolve_image
from shipit.steps.remotebuild import _failure, build_body, settings

YAML = """\
version: 1
app: shop
environments:
  staging: {project: shop-staging, region: us-central1}
  prod:
    project: shop-prod-1
    region: europe-west1
    build:
      engine: cloudbuild
      cloudbuild: {pool: fast, timeout: 900}
default_environment: staging
secrets: {extra: [NPM_TOKEN]}
build:
  engine: local
  concurrency: 6
  cloudbuild: {machine_type: E2_HIGHCPU_8}
services:
  api: {build: {context: api, secrets: [NPM_TOKEN], target: prod, args: {MODE: release}}}
  web: {build: {context: web, engine: cloudbuild}}
  docs: {build: {context: web, engine: local}}
"""


def _project(tmp_path: Path, yaml: str = YAML) -> Path:
    for name in ("api", "web"):
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name / "Dockerfile").write_text("FROM busybox\nCOPY . /app\n")
    (tmp_path / "shipit.yaml").write_text(yaml)
    return tmp_path / "shipit.yaml"


def _target(tmp_path: Path, env: str) -> Target:
    return resolve_target(load_config(_project(tmp_path)), env)


def _ctx(target: Target, engine: str | None = None) -> StepContext:
    return StepContext(target, Console(stdout=io.StringIO(), stderr=io.StringIO()), RunOptions(build_engine=engine))


def test_engine_per_environment_per_service_and_flag(tmp_path: Path) -> None:
    staging, prod = _target(tmp_path, "staging"), _target(tmp_path, "prod")
    assert [engine_of(_ctx(staging), s) for s in ("api", "web", "docs")] == ["local", "cloudbuild", "local"]
    assert [engine_of(_ctx(prod), s) for s in ("api", "web", "docs")] == ["cloudbuild", "cloudbuild", "local"]
    assert {engine_of(_ctx(prod, "local"), s) for s in ("api", "web", "docs")} == {"local"}
    assert {engine_of(_ctx(staging, "cloudbuild"), s) for s in ("api", "web", "docs")} == {"cloudbuild"}


def test_a_built_sidecar_follows_its_own_engine_then_its_services(tmp_path: Path) -> None:
    sidecars = YAML.replace(
        "  web: {build: {context: web, engine: cloudbuild}}\n",
        "  web:\n"
        "    build: {context: web, engine: cloudbuild}\n"
        "    sidecars:\n"
        "      proxy: {build: {context: web}}\n"
        "      local-proxy: {build: {context: web, engine: local}}\n",
    )
    _project(tmp_path, sidecars)
    staging = resolve_target(load_config(tmp_path / "shipit.yaml"), "staging")
    assert engine_of(_ctx(staging), "web.proxy") == "cloudbuild"
    assert engine_of(_ctx(staging), "web.local-proxy") == "local"
    assert engine_of(_ctx(staging, "local"), "web.proxy") == "local"


def test_settings_merge_the_environment_overlay(tmp_path: Path) -> None:
    conf = settings(_target(tmp_path, "prod"))
    assert conf.region == "europe-west1"
    assert conf.pool == "projects/shop-prod-1/locations/europe-west1/workerPools/fast"
    assert conf.machine_type == "E2_HIGHCPU_8" and conf.timeout == 900 and conf.concurrency == 6
    assert conf.bucket == "shop-prod-1-shipit-builds"
    assert conf.service_account == "shipit-build@shop-prod-1.iam.gserviceaccount.com"


def test_build_body_pool_buildkit_cache_and_secrets_by_name(tmp_path: Path) -> None:
    target = _target(tmp_path, "prod")
    spec = resolve_image(target, "api", None)
    body = build_body(target, settings(target), spec, "Dockerfile", (("org.opencontainers.image.created", "t"),))
    assert body["options"] == {
        "logging": "GCS_ONLY",
        "pool": {"name": "projects/shop-prod-1/locations/europe-west1/workerPools/fast"},
    }  # a private pool sets its own machine: machine_type is left out
    assert body["timeout"] == "900s"
    assert (
        body["serviceAccount"]
        == "projects/shop-prod-1/serviceAccounts/shipit-build@shop-prod-1.iam.gserviceaccount.com"
    )
    assert body["logsBucket"] == "gs://shop-prod-1-shipit-builds/logs"
    assert body["source"] == {
        "storageSource": {"bucket": "shop-prod-1-shipit-builds", "object": f"source/api/{spec.tag}.tgz"}
    }
    assert body["images"] == [spec.ref]
    step = body["steps"][1]
    assert step["env"] == ["DOCKER_BUILDKIT=1"] and step["secretEnv"] == ["NPM_TOKEN"]
    args = step["args"]
    assert args[:2] == ["buildx", "build"] and args[-1] == "."
    assert args[args.index("--secret") : args.index("--secret") + 2] == ["--secret", "id=NPM_TOKEN,env=NPM_TOKEN"]
    assert f"type=registry,ref={spec.repo}:buildcache,mode=max" in args
    assert args[args.index("--target") : args.index("--target") + 2] == ["--target", "prod"]
    assert "MODE=release" in args
    assert body["availableSecrets"] == {
        "secretManager": [
            {"versionName": "projects/shop-prod-1/secrets/shop-prod-NPM_TOKEN/versions/latest", "env": "NPM_TOKEN"}
        ]
    }


def test_machine_type_without_pool(tmp_path: Path) -> None:
    target = _target(tmp_path, "staging")
    spec = resolve_image(target, "web", None)
    body = build_body(target, settings(target), spec, "Dockerfile", ())
    assert body["options"] == {"logging": "GCS_ONLY", "machineType": "E2_HIGHCPU_8"}
    assert "availableSecrets" not in body and "secretEnv" not in body["steps"][1]


def test_unknown_engine_is_a_config_error(tmp_path: Path) -> None:
    _project(tmp_path, YAML.replace("engine: local\n  concurrency", "engine: cloud\n  concurrency"))
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "shipit.yaml")
    assert "build.engine" in err.value.message


def test_pack_is_the_hashed_file_set_and_reproducible(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    (context / "src").mkdir(parents=True)
    (context / "src" / "app.py").write_text("print(1)\n")
    (context / "Dockerfile").write_text("FROM busybox\n")
    (context / "secret.env").write_text("KEY=1\n")
    (context / "node_modules" / "x").mkdir(parents=True)
    (context / "node_modules" / "x" / "i.js").write_text("x")
    (context / "link").symlink_to("src/app.py")
    (context / ".dockerignore").write_text("*.env\nnode_modules\n")
    packed = pack_context(context, context / "Dockerfile")
    with tarfile.open(fileobj=io.BytesIO(packed.data), mode="r:gz") as tar:
        names = tar.getnames()
        link = tar.getmember("link")
        assert all(m.mtime == 0 and m.uid == 0 for m in tar.getmembers())
    assert names == [e.path for e in context_entries(context)]
    assert "secret.env" not in names and not any(n.startswith("node_modules") for n in names)
    assert link.issym() and link.linkname == "src/app.py"
    assert packed.dockerfile == "Dockerfile" and packed.files == 3
    assert pack_context(context, context / "Dockerfile").data == packed.data
    assert gzip.decompress(packed.data)  # a valid gzip stream


def test_dockerfile_outside_the_context_is_added(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "a.txt").write_text("a")
    dockerfile = tmp_path / "Dockerfile.prod"
    dockerfile.write_text("FROM busybox\n")
    packed = pack_context(context, dockerfile)
    assert packed.dockerfile == DOCKERFILE_OUTSIDE
    with tarfile.open(fileobj=io.BytesIO(packed.data), mode="r:gz") as tar:
        extracted = tar.extractfile(DOCKERFILE_OUTSIDE)
        assert extracted is not None and extracted.read() == b"FROM busybox\n"


def _state(status: str, failure: str | None = None, kind: str | None = None) -> BuildState:
    return BuildState("projects/p/locations/r/builds/b1", "b1", status, None, (), failure, kind)


def test_failures_are_translated(tmp_path: Path) -> None:
    target = _target(tmp_path, "prod")
    (tmp_path / "api" / "Dockerfile").write_text("FROM busybox\n\nRUN make\nCOPY . /app\n")
    spec = resolve_image(target, "api", None)
    log = [
        "Step 1/3 : FROM busybox",
        "Step 2/3 : RUN make",
        "The command '/bin/sh -c make' returned a non-zero code: 2",
    ]
    step = _failure(spec, _state("FAILURE", "Build step failure: ...", "USER_BUILD_STEP"), log)
    assert "api/Dockerfile:3" in step.message and "RUN make" in step.message and "b1" in step.message
    timeout = _failure(spec, _state("TIMEOUT"), [])
    assert "timed out" in timeout.message and "build.cloudbuild.timeout" in (timeout.hint or "")
    quota = _failure(
        spec, _state("FAILURE", "Quota exceeded for quota metric 'Concurrent builds'", "FAILURE_TYPE_UNSPECIFIED"), []
    )
    assert "quota exceeded" in quota.message and "build.concurrency" in (quota.hint or "")
    push = _failure(
        spec,
        _state("FAILURE", "denied: Permission 'artifactregistry.repositories.uploadArtifacts' denied", "PUSH_FAILED"),
        [],
    )
    assert "artifactregistry.writer" in (push.hint or "")


def test_build_secrets_of_remote_builds_must_be_synced(tmp_path: Path) -> None:
    from shipit.errors import UsageError
    from shipit.steps.build import _check_remote_secrets

    _project(tmp_path, YAML.replace("secrets: {extra: [NPM_TOKEN]}\n", ""))
    target = resolve_target(load_config(tmp_path / "shipit.yaml"), "prod")
    with pytest.raises(UsageError) as err:
        _check_remote_secrets(_ctx(target), [resolve_image(target, "api", None)])
    assert "NPM_TOKEN" in err.value.message and "secrets.extra" in (err.value.hint or "")


class _MemoryBuilds:
    """An in-memory CloudBuilds whose create() runs ``during_create`` (e.g. an interrupt arriving)."""

    def __init__(self, during_create: object) -> None:
        self.during_create = during_create
        self.cancelled: list[str] = []
        self.created = 0

    def upload(self, bucket: str, name: str, data: bytes) -> bool:
        return True

    def create(self, body: dict[str, object]) -> BuildState:
        self.created += 1
        self.during_create()  # type: ignore[operator]
        return _state("QUEUED")

    def cancel(self, build: BuildState) -> None:
        self.cancelled.append(build.id)


def test_an_interrupt_during_create_cancels_that_build(tmp_path: Path) -> None:
    from shipit.steps.remotebuild import _run_one, _Started

    target = _target(tmp_path, "prod")
    spec = resolve_image(target, "web", None)
    started = _Started()
    api = _MemoryBuilds(started.stop.set)
    with pytest.raises(ToolError, match="interrupted"):
        _run_one(api, settings(target), target, spec, (), lambda line: None, started)  # type: ignore[arg-type]
    assert api.cancelled == ["b1"]
    # Interrupted before the upload finished: nothing is created at all.
    api = _MemoryBuilds(lambda: None)
    with pytest.raises(ToolError, match="not started"):
        _run_one(api, settings(target), target, spec, (), lambda line: None, started)  # type: ignore[arg-type]
    assert api.created == 0
