"""Cloud Build (v1, regional endpoint) and the staging bucket it reads sources from, over REST.

Why REST and not google-cloud-build? The library is not a runtime dependency, and its REST transport
sends a request that carries ``project_id`` to the global endpoint even when ``parent`` names a region;
five calls through the bounded AuthorizedSession (the same credentials and response limit as every other
client) are all remote builds need. Endpoints follow gcloud's override convention
(CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDBUILD / _STORAGE), which is also how tests reach the fake.

CreateBuild is not idempotent: every request carries a unique ``shipit-req-*`` tag, and when its answer is
lost the build is looked up by that tag before anything is sent again, so a lost answer never starts a
second build.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from shipit.adapters.gcp.auth import endpoint_override
from shipit.errors import RemoteError

API = "cloudbuild"
_CLOUDBUILD = "https://cloudbuild.googleapis.com"
_STORAGE = "https://storage.googleapis.com"
TERMINAL = frozenset({"SUCCESS", "FAILURE", "INTERNAL_ERROR", "TIMEOUT", "CANCELLED", "EXPIRED"})
Json = dict[str, Any]


@dataclass(frozen=True)
class BuildState:
    name: str  # projects/P/locations/R/builds/ID
    id: str
    status: str
    log_object: str | None  # object name of the log in the logs bucket
    images: tuple[tuple[str, str], ...]  # (name, digest) from results.images
    failure: str | None  # failureInfo.type: detail, or statusDetail
    failure_type: str | None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def digest_of(self, ref: str) -> str | None:
        return next((d for n, d in self.images if n == ref), None)


def _state(raw: Json) -> BuildState:
    info = raw.get("failureInfo") or {}
    detail = info.get("detail") or raw.get("statusDetail")
    build_id = str(raw.get("id", ""))
    logs = str(raw.get("logsBucket") or "")
    log_object = None
    if logs.startswith("gs://") and build_id:
        prefix = logs[5:].partition("/")[2]
        log_object = f"{prefix.rstrip('/')}/log-{build_id}.txt".lstrip("/")
    return BuildState(
        name=str(raw.get("name", "")),
        id=build_id,
        status=str(raw.get("status", "STATUS_UNKNOWN")),
        log_object=log_object,
        images=tuple(
            (str(i.get("name", "")), str(i.get("digest", ""))) for i in (raw.get("results") or {}).get("images", [])
        ),
        failure=str(detail) if detail else None,
        failure_type=info.get("type"),
    )


def _translated(exc: BaseException, what: str) -> RemoteError:
    from shipit.adapters.gcp.errors import translate

    action, _, resource = what.partition(" ")
    return translate(exc, api=API, action=action, resource=resource)


class CloudBuilds:
    """Builds of one project in one region, and their staging bucket."""

    def __init__(self, project: str, region: str, session: Any = None, *, sleep: Callable[[float], Any] = time.sleep):
        self.project = project
        self.region = region
        self._session = session
        self._sleep = sleep

    @property
    def session(self) -> Any:
        if self._session is None:
            from shipit.adapters.gcp.bounded import authorized_session

            self._session = authorized_session()
        return self._session

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    def _builds_url(self, suffix: str = "") -> str:
        return f"{endpoint_override('cloudbuild') or _CLOUDBUILD}/v1/{self.parent}/builds{suffix}"

    def _send(self, method: str, url: str, *, what: str, retry: bool, **kwargs: Any) -> Any:
        """One call; with ``retry``, again on 429/5xx and dropped connections (reads and idempotent writes)."""
        import requests
        from google.api_core.exceptions import from_http_response
        from google.auth.exceptions import GoogleAuthError

        from shipit.adapters.gcp.errors import is_retryable

        delay = 0.5
        for attempt in range(1, 6):
            try:
                response = self.session.request(method, url, timeout=120, **kwargs)
            except requests.RequestException as exc:
                if retry and attempt < 5:
                    self._sleep(delay)
                    delay *= 2
                    continue
                raise _translated(exc, what) from None
            except GoogleAuthError as exc:
                raise _translated(exc, what) from None
            if response.status_code < 400 or response.status_code in (404, 412, 416):
                return response
            error = from_http_response(response)  # type: ignore[no-untyped-call]
            if retry and attempt < 5 and is_retryable(error):
                self._sleep(delay)
                delay *= 2
                continue
            raise _translated(error, what) from None
        raise AssertionError("unreachable")

    # -- the staging bucket ---------------------------------------------------------------------
    def upload(self, bucket: str, name: str, data: bytes) -> bool:
        """Store ``data`` as gs://bucket/name unless an object of that name exists (names are content
        addressed). True when uploaded."""
        base = endpoint_override("storage") or _STORAGE
        response = self._send(
            "POST",
            f"{base}/upload/storage/v1/b/{quote(bucket, safe='')}/o",
            what=f"upload the build source to gs://{bucket}/{name}",
            retry=True,  # ifGenerationMatch=0 makes a repeat harmless
            params={"uploadType": "media", "name": name, "ifGenerationMatch": "0"},
            data=data,
            headers={"Content-Type": "application/gzip"},
        )
        if response.status_code == 404:
            raise RemoteError(
                f"staging bucket gs://{bucket} does not exist",
                hint="run `shipit infra apply` (the generated Terraform declares it) or set build.cloudbuild.bucket",
            )
        return bool(response.status_code != 412)

    def read_log(self, bucket: str, name: str, offset: int) -> bytes:
        """The bytes of gs://bucket/name from ``offset`` on (b"" while the object does not exist yet)."""
        base = endpoint_override("storage") or _STORAGE
        response = self._send(
            "GET",
            f"{base}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}",
            what=f"read the build log gs://{bucket}/{name}",
            retry=True,
            params={"alt": "media"},
            headers={"Range": f"bytes={offset}-"} if offset else {},
        )
        if response.status_code in (404, 416):
            return b""
        body: bytes = response.content
        # A server that ignores Range answers 200 with everything.
        return body if response.status_code == 206 else body[offset:]

    # -- builds -----------------------------------------------------------------------------------
    def create(self, body: Json) -> BuildState:
        """Start a build; its answer lost, find it by its request tag instead of starting another."""
        tag = f"shipit-req-{uuid.uuid4().hex[:16]}"
        body = {**body, "tags": [*body.get("tags", []), tag]}
        what = "start a build on Cloud Build"
        try:
            response = self._send("POST", self._builds_url(), what=what, retry=False, json=body)
        except RemoteError as exc:
            if "cannot reach" not in exc.message:
                raise
            found = self._find(tag)
            if found is None:
                # Nothing was created: one more try is safe.
                response = self._send("POST", self._builds_url(), what=what, retry=False, json=body)
            else:
                return found
        build = ((response.json().get("metadata") or {}).get("build")) or {}
        if not build.get("id"):
            raise RemoteError(f"could not {what}: the answer names no build")
        return _state(build)

    def _find(self, tag: str) -> BuildState | None:
        response = self._send(
            "GET",
            self._builds_url(),
            what="look for a build whose answer was lost",
            retry=True,
            params={"projectId": self.project, "filter": f'tags="{tag}"', "pageSize": "5"},
        )
        builds = response.json().get("builds") or [] if response.status_code != 404 else []
        return _state(builds[0]) if builds else None

    def get(self, build: BuildState) -> BuildState:
        response = self._send(
            "GET",
            self._builds_url(f"/{build.id}"),
            what=f"read build {build.id}",
            retry=True,
        )
        if response.status_code == 404:
            raise RemoteError(f"build {build.id} disappeared from Cloud Build")
        return _state(response.json())

    def cancel(self, build: BuildState) -> None:
        self._send(
            "POST",
            self._builds_url(f"/{build.id}:cancel"),
            what=f"cancel build {build.id}",
            retry=True,  # cancelling twice is harmless
            json={"name": build.name or f"{self.parent}/builds/{build.id}", "projectId": self.project, "id": build.id},
        )
