"""Cloud Build v1 (regional builds): create, get, list, cancel, and an executor that really builds.

A created build starts QUEUED and is handed to `executor` on a thread of its own. The default executor
(`executor = None`) ends every build SUCCESS at once with made-up digests (enough for the API's shape);
`DockerExecutor` runs it for real: fetches the source from the fake Cloud Storage, resolves
`availableSecrets` from the fake Secret Manager, runs the docker steps on the local Docker engine, pushes
`images` to the (local) registry and reports their digests in `results.images`, writing the log object
into `logsBucket` as Cloud Build does (`Step #N - "id": ` prefixes). Faults: a step that fails is a real
failure (FAILURE, USER_BUILD_STEP); `fake.faults.time_out_builds()` makes the next build TIMEOUT.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fakegcp.errors import ApiError
from fakegcp.model import ApiRequest, Clock, Handler, Json, deep_copy, page_body, paginate

if TYPE_CHECKING:
    from fakegcp.faults import Faults
    from fakegcp.secretmanager import SecretManager
    from fakegcp.storage import Storage

_PARENT = re.compile(r"^projects/([^/]+)/locations/([^/]+)$")
_TAG_FILTER = re.compile(r'^tags\s*=\s*"([^"]+)"$')
TERMINAL = {"SUCCESS", "FAILURE", "INTERNAL_ERROR", "TIMEOUT", "CANCELLED", "EXPIRED"}
_LOGGING_WITH_ACCOUNT = {"GCS_ONLY", "CLOUD_LOGGING_ONLY", "NONE", "REGIONAL_USER_OWNED_BUCKET"}
Executor = Callable[["CloudBuild", str], None]


class CloudBuild:
    """Builds by name (projects/P/locations/R/builds/ID)."""

    def __init__(self, clock: Clock, storage: Storage, secrets: SecretManager, faults: Faults) -> None:
        self.clock = clock
        self.storage = storage
        self.secrets = secrets
        self.faults = faults
        self.executor: Executor | None = None
        self.reset()

    def reset(self) -> None:
        self.builds: dict[str, Json] = {}
        self.cancelled: set[str] = set()
        self.threads: list[threading.Thread] = []
        self._lock = threading.RLock()

    def handlers(self) -> dict[str, Handler]:
        p = "cloudbuild.projects.locations.builds."
        return {p + "create": self.create, p + "get": self.get, p + "list": self.list, p + "cancel": self.cancel}

    # -- state the executor updates -------------------------------------------------------------
    def update(self, name: str, **fields: Any) -> None:
        with self._lock:
            self.builds[name].update(fields)

    def build(self, name: str) -> Json:
        with self._lock:
            return deep_copy(self.builds[name])  # type: ignore[no-any-return]

    def log(self, name: str, line: str) -> None:
        build = self.build(name)
        bucket, _, prefix = build["logsBucket"][5:].partition("/")
        obj = f"{prefix.rstrip('/')}/log-{build['id']}.txt".lstrip("/")
        self.storage.append(bucket, obj, (line + "\n").encode())

    def wait(self, timeout: float = 300) -> None:
        """Wait for every executor thread (tests: before asserting on the final state)."""
        for thread in list(self.threads):
            thread.join(timeout)

    # -- API --------------------------------------------------------------------------------------
    def create(self, request: ApiRequest) -> Json:
        parent = request.params["parent"]
        m = _PARENT.match(parent)
        if not m:
            raise ApiError.invalid_argument(f"invalid parent {parent}")
        project, region = m.groups()
        body = request.body
        steps = body.get("steps") or []
        if not steps:
            raise ApiError.invalid_argument("invalid build: must specify at least one build step")
        for i, step in enumerate(steps):
            if not step.get("name"):
                raise ApiError.invalid_argument(f"invalid build: build step {i} must specify name")
        options = body.get("options") or {}
        if (
            body.get("serviceAccount")
            and not body.get("logsBucket")
            and options.get("logging") not in _LOGGING_WITH_ACCOUNT
        ):
            raise ApiError.invalid_argument(
                "invalid argument: if 'build.service_account' is specified, the build must either (a) specify "
                "'build.logs_bucket', (b) use the REGIONAL_USER_OWNED_BUCKET build.options.logging option, or "
                "(c) use either CLOUD_LOGGING_ONLY / NONE logging options"
            )
        pool = (options.get("pool") or {}).get("name")
        if pool:
            if not pool.startswith(f"projects/{project}/locations/{region}/workerPools/"):
                raise ApiError.invalid_argument(
                    f"invalid build: worker pool {pool} must be in the build's project and region ({parent})"
                )
            if options.get("machineType"):
                raise ApiError.invalid_argument("invalid build: machine_type is not supported with a private pool")
        for env_name in {e for s in steps for e in s.get("secretEnv", [])}:
            declared = [s.get("env") for s in (body.get("availableSecrets") or {}).get("secretManager", [])]
            if env_name not in declared:
                raise ApiError.invalid_argument(
                    f"invalid build: secretEnv {env_name} is not defined in availableSecrets"
                )
        source = (body.get("source") or {}).get("storageSource") or {}
        build_id = str(uuid.uuid4())
        name = f"{parent}/builds/{build_id}"
        logs = body.get("logsBucket") or f"gs://{project}_cloudbuild"
        build: Json = {
            **deep_copy(body),
            "id": build_id,
            "name": name,
            "projectId": project,
            "status": "QUEUED",
            "createTime": self.clock.now(),
            "logsBucket": logs,
            "logUrl": f"https://console.cloud.google.com/cloud-build/builds;region={region}/{build_id}?project={project}",
            "timeout": body.get("timeout", "600s"),
        }
        if source and (source.get("bucket"), source.get("object")) not in self.storage.objects:
            build.update(
                status="FAILURE",
                failureInfo={
                    "type": "FETCH_SOURCE_FAILED",
                    "detail": f"gs://{source.get('bucket')}/{source.get('object')} not found",
                },
            )
        with self._lock:
            self.builds[name] = build
        if build["status"] == "QUEUED":
            thread = threading.Thread(
                target=self._execute, args=(name,), name=f"fakegcp-build-{build_id[:8]}", daemon=True
            )
            self.threads.append(thread)
            thread.start()
        return {
            "name": f"{parent}/operations/{uuid.uuid4()}",
            "metadata": {
                "@type": "type.googleapis.com/google.devtools.cloudbuild.v1.BuildOperationMetadata",
                "build": deep_copy(build),
            },
        }

    def _execute(self, name: str) -> None:
        try:
            if self.executor is None:
                build = self.build(name)
                images = [
                    {"name": ref, "digest": "sha256:" + hashlib.sha256(ref.encode()).hexdigest()}
                    for ref in build.get("images", [])
                ]
                self.update(name, status="SUCCESS", results={"images": images}, finishTime=self.clock.now())
            else:
                self.executor(self, name)
        except Exception as exc:  # the fake's own failure is the build's INTERNAL_ERROR, not a hang
            self.update(name, status="INTERNAL_ERROR", statusDetail=f"fakegcp executor: {exc}")

    def get(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        with self._lock:
            build = self.builds.get(name)
            if build is None:
                raise ApiError.not_found(f"Requested entity was not found. Build {name} not found.")
            return deep_copy(build)  # type: ignore[no-any-return]

    def list(self, request: ApiRequest) -> Json:
        parent = request.params["parent"] + "/builds/"
        flt = request.query.get("filter", "").strip()
        tag = None
        if flt:
            m = _TAG_FILTER.match(flt)
            if not m:
                raise ApiError.invalid_argument(f'fakegcp understands only tags="..." filters, not {flt}')
            tag = m.group(1)
        with self._lock:
            items = [
                deep_copy(b)
                for n, b in self.builds.items()
                if n.startswith(parent) and (tag is None or tag in b.get("tags", []))
            ]
        items.sort(key=lambda b: b["createTime"], reverse=True)
        page, nxt = paginate(items, request)
        return page_body("builds", page, nxt)

    def cancel(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        with self._lock:
            build = self.builds.get(name)
            if build is None:
                raise ApiError.not_found(f"Requested entity was not found. Build {name} not found.")
            if build["status"] not in TERMINAL:
                build.update(status="CANCELLED", finishTime=self.clock.now())
                self.cancelled.add(name)
            return deep_copy(build)  # type: ignore[no-any-return]


class DockerExecutor:
    """Runs builds on the local Docker engine. The engine has the classic builder only (no buildx), so a
    `docker buildx build` step runs as `docker build` with the same file, target, args, labels and tags;
    the BuildKit-only flags are checked (each `--secret ...,env=X` must name a resolved secretEnv) and
    recorded in `buildx_flags`, then left out."""

    def __init__(self, docker_env: dict[str, str], login: tuple[str, str, str] | None = None) -> None:
        self.env = docker_env
        self.login = login
        self.buildx_flags: dict[str, list[str]] = {}
        self.secret_env: dict[str, dict[str, str]] = {}
        self.timeout_seconds: float | None = None  # overrides build.timeout (tests)

    def __call__(self, cb: CloudBuild, name: str) -> None:
        build = cb.build(name)
        cb.update(name, status="WORKING", startTime=cb.clock.now())
        cb.log(name, f'starting build "{build["id"]}"')
        workspace = tempfile.mkdtemp(prefix="fakegcp-build-")
        config_dir = tempfile.mkdtemp(prefix="fakegcp-docker-")
        try:
            source = build["source"]["storageSource"]
            cb.log(name, "\nFETCHSOURCE")
            data = cb.storage.read(source["bucket"], source["object"]) or b""
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                tar.extractall(workspace, filter="tar")
            secrets = {
                s["env"]: cb.secrets.value(
                    s["versionName"].rsplit("/versions/", 1)[0], s["versionName"].rsplit("/", 1)[1]
                ).decode()
                for s in (build.get("availableSecrets") or {}).get("secretManager", [])
            }
            env = {**os.environ, **self.env, "DOCKER_CONFIG": config_dir, "DOCKER_BUILDKIT": "0"}
            if self.login:
                host, user, token = self.login
                subprocess.run(
                    ["docker", "login", "--username", user, "--password-stdin", host],
                    input=token,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
            timeout = self.timeout_seconds or float(build["timeout"].rstrip("s"))
            times_out = cb.faults.take_build_timeout()
            cb.log(name, "BUILD")
            for index, step in enumerate(build["steps"]):
                label = f'Step #{index} - "{step.get("id", index)}"'
                cb.log(name, f"Starting {label}")
                step_env = dict(env)
                for item in step.get("env", []):
                    key, _, value = item.partition("=")
                    step_env[key] = value
                for key in step.get("secretEnv", []):
                    step_env[key] = secrets[key]
                self.secret_env[name] = {k: secrets[k] for k in step.get("secretEnv", [])} | self.secret_env.get(
                    name, {}
                )
                argv = self._argv(name, step, step_env)
                if argv is None:
                    cb.log(name, f"Finished {label}")
                    continue
                status = self._run(cb, name, label, argv, step_env, workspace, 0.5 if times_out else timeout)
                if status == "CANCELLED":
                    return
                if status == "TIMEOUT":
                    cb.log(name, "TIMEOUT")
                    cb.update(
                        name,
                        status="TIMEOUT",
                        statusDetail=f"Build timeout after {build['timeout']}",
                        finishTime=cb.clock.now(),
                    )
                    return
                if status != 0:
                    detail = (
                        f'Build step failure: build step {index} "{step["name"]}" failed: step exited with '
                        f"non-zero status: {status}"
                    )
                    cb.log(name, f"ERROR: {detail}")
                    cb.update(
                        name,
                        status="FAILURE",
                        statusDetail=detail,
                        failureInfo={"type": "USER_BUILD_STEP", "detail": detail},
                        finishTime=cb.clock.now(),
                    )
                    return
                cb.log(name, f"Finished {label}")
            cb.log(name, "PUSH")
            images = []
            for ref in build.get("images", []):
                out = subprocess.run(["docker", "push", ref], env=env, capture_output=True, text=True)
                for line in out.stdout.splitlines():
                    cb.log(name, line)
                m = re.search(r"digest: (sha256:[0-9a-f]{64})", out.stdout)
                if out.returncode != 0 or not m:
                    detail = f"failed to push {ref}: {out.stderr.strip()[-300:]}"
                    cb.update(
                        name,
                        status="FAILURE",
                        statusDetail=detail,
                        failureInfo={"type": "PUSH_FAILED", "detail": detail},
                        finishTime=cb.clock.now(),
                    )
                    return
                images.append({"name": ref, "digest": m.group(1)})
            cb.log(name, "DONE")
            cb.update(name, status="SUCCESS", results={"images": images}, finishTime=cb.clock.now())
        finally:
            shutil.rmtree(workspace, ignore_errors=True)
            shutil.rmtree(config_dir, ignore_errors=True)

    def _argv(self, name: str, step: Json, env: dict[str, str]) -> list[str] | None:
        if step["name"] != "gcr.io/cloud-builders/docker":
            raise ValueError(f"fakegcp runs only gcr.io/cloud-builders/docker steps, not {step['name']}")
        args: list[str] = list(step.get("args", []))
        if args[:2] == ["buildx", "create"]:
            return None  # the engine has no buildx: a builder is nothing to create here
        if args[:2] != ["buildx", "build"]:
            return ["docker", *args]
        kept: list[str] = ["docker", "build"]
        flags: list[str] = []
        i = 2
        while i < len(args):
            arg = args[i]
            if arg in (
                "--builder",
                "--progress",
                "--provenance",
                "--platform",
                "--cache-from",
                "--cache-to",
                "--secret",
            ):
                value = args[i + 1]
                flags += [arg, value]
                if arg == "--secret":
                    fields = dict(p.split("=", 1) for p in value.split(","))
                    if fields.get("env") not in env:
                        raise ValueError(f"--secret {value}: ${fields.get('env')} is not set in the step")
                i += 2
            elif arg == "--load":
                flags.append(arg)
                i += 1
            else:
                kept.append(arg)
                i += 1
        self.buildx_flags[name] = flags
        env["DOCKER_BUILDKIT"] = "0"  # the step's own DOCKER_BUILDKIT=1 would need buildx
        return kept

    def _run(
        self, cb: CloudBuild, name: str, label: str, argv: list[str], env: dict[str, str], cwd: str, timeout: float
    ) -> int | str:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        expired = threading.Event()

        def watch() -> None:
            # Cloud Build stops a step when the build is cancelled or runs past its timeout.
            deadline = time.monotonic() + timeout
            while proc.poll() is None:
                if name in cb.cancelled:
                    proc.kill()
                elif time.monotonic() > deadline:
                    expired.set()
                    proc.kill()
                time.sleep(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        assert proc.stdout is not None
        for line in proc.stdout:
            cb.log(name, f"{label}: {line.rstrip()}")
        code = proc.wait()
        watcher.join()
        if name in cb.cancelled:
            return "CANCELLED"
        if expired.is_set():
            return "TIMEOUT"
        return code
