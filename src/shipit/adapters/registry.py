"""A small Docker Registry HTTP API v2 client: does a manifest exist (and with which digest), and add a tag.

Authentication follows the registry's challenge: ``Basic`` (htpasswd registries) or ``Bearer`` token
exchange at the realm it names (Artifact Registry, Docker Hub), with the user/password shipit logs docker
in with (``oauth2accesstoken`` and an OAuth access token for Artifact Registry). Plain HTTP is used for
loopback hosts only, as docker itself does.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from shipit.errors import RemoteError

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_TIMEOUT = 30
T = TypeVar("T")


class RegistryHTTPError(Exception):
    """A non-success status; ``code`` lets ``with_retries`` retry 429/5xx."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return name in ("localhost", "[::1]") or name.startswith("127.")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


class RegistryClient:
    def __init__(self, host: str, credentials: Credentials | None, *, session: Any = None) -> None:
        import requests

        self.host = host
        self.base = ("http://" if _is_loopback(host) else "https://") + host
        self._credentials = credentials
        self._session = session or requests.Session()
        self._lock = threading.Lock()
        self._auth: dict[str, str] = {}  # scope -> Authorization header value

    # -- public API -----------------------------------------------------------------------
    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest of ``repository:reference`` (a tag or digest), or None when the registry lacks it."""

        def call() -> str | None:
            response = self._request("HEAD", repository, f"/v2/{repository}/manifests/{reference}", push=False)
            if response.status_code == 404:
                return None
            self._check(response, f"look up {repository}:{reference}")
            digest = response.headers.get("Docker-Content-Digest")
            if not digest:
                # Some registries omit the header on HEAD; GET returns it (or we hash the body).
                got = self._request("GET", repository, f"/v2/{repository}/manifests/{reference}", push=False)
                self._check(got, f"read {repository}:{reference}")
                digest = got.headers.get("Docker-Content-Digest") or _sha256(got.content)
            return str(digest)

        return self._retrying(call)

    def add_tag(self, repository: str, source: str, tag: str) -> str:
        """Point ``repository:tag`` at the manifest of ``source`` (a tag or digest) without uploading layers."""

        def call() -> str:
            got = self._request("GET", repository, f"/v2/{repository}/manifests/{source}", push=True)
            self._check(got, f"read {repository}:{source}")
            media_type = got.headers.get("Content-Type", MANIFEST_TYPES[-1]).split(";")[0]
            put = self._request(
                "PUT",
                repository,
                f"/v2/{repository}/manifests/{tag}",
                push=True,
                data=got.content,
                headers={"Content-Type": media_type},
            )
            self._check(put, f"tag {repository}:{source} as {tag}")
            return str(put.headers.get("Docker-Content-Digest") or _sha256(got.content))

        return self._retrying(call)

    # -- plumbing -------------------------------------------------------------------------
    def _retrying(self, call: Callable[[], T]) -> T:
        import requests

        from shipit.adapters.gcp.errors import with_retries

        try:
            return with_retries(call)
        except RegistryHTTPError as exc:
            raise RemoteError(str(exc), hint="the registry is failing; retry later") from None
        except (requests.ConnectionError, requests.Timeout):
            raise RemoteError(
                f"cannot reach the registry {self.host}", hint="check the network, the registry host and DNS"
            ) from None

    def _request(
        self, method: str, repository: str, path: str, *, push: bool, headers: dict[str, str] | None = None, **kw: Any
    ) -> Any:
        scope = f"repository:{repository}:{'pull,push' if push else 'pull'}"
        all_headers = {"Accept": ", ".join(MANIFEST_TYPES), **(headers or {})}
        with self._lock:
            cached = self._auth.get(scope)
        if cached:
            all_headers["Authorization"] = cached
        response = self._session.request(method, self.base + path, headers=all_headers, timeout=_TIMEOUT, **kw)
        if response.status_code == 401 and self._credentials is not None:
            authorization = self._authorize(response.headers.get("WWW-Authenticate", ""), scope)
            if authorization and authorization != cached:
                with self._lock:
                    self._auth[scope] = authorization
                all_headers["Authorization"] = authorization
                response = self._session.request(method, self.base + path, headers=all_headers, timeout=_TIMEOUT, **kw)
        return response

    def _authorize(self, challenge: str, scope: str) -> str | None:
        assert self._credentials is not None
        basic = (
            "Basic " + base64.b64encode(f"{self._credentials.username}:{self._credentials.password}".encode()).decode()
        )
        scheme = challenge.split(" ", 1)[0].lower()
        if scheme == "basic" or not challenge:
            return basic
        if scheme != "bearer":
            return None
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        realm = params.get("realm")
        if not realm:
            return None
        query = {"scope": scope}
        if "service" in params:
            query["service"] = params["service"]
        response = self._session.get(realm, params=query, headers={"Authorization": basic}, timeout=_TIMEOUT)
        if response.status_code in (401, 403):
            raise self._denied(response.status_code)
        if response.status_code >= 400:
            status = int(response.status_code)
            raise RegistryHTTPError(status, f"token exchange with {realm} failed (HTTP {status})")
        body = response.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            return None
        from shipit.output import REDACTOR

        REDACTOR.register(token)
        return f"Bearer {token}"

    def _denied(self, status: int) -> RemoteError:
        return RemoteError(
            f"the registry {self.host} rejected the credentials (HTTP {status})",
            hint="refresh the access token (`gcloud auth application-default login` or CLOUDSDK_AUTH_ACCESS_TOKEN) "
            "and check roles/artifactregistry.writer on the repository",
        )

    def _check(self, response: Any, what: str) -> None:
        status = int(response.status_code)
        if status < 400:
            return
        if status in (401, 403):
            raise self._denied(status)
        if status == 429 or status >= 500:
            raise RegistryHTTPError(status, f"could not {what} on {self.host}: HTTP {status}")
        detail = ""
        try:
            errors = response.json().get("errors") or []
            detail = "; ".join(str(e.get("message", e.get("code", ""))) for e in errors)
        except ValueError:
            detail = response.text[:200]
        raise RemoteError(f"could not {what} on {self.host}: HTTP {status}" + (f" ({detail})" if detail else ""))


def _sha256(data: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()
