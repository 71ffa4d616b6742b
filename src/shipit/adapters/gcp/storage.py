"""The Terraform state bucket, through the Cloud Storage JSON API.

Why not a bootstrap Terraform config? The state bucket must exist before any `terraform init`,
so its own state would have to live somewhere else (a local file to keep forever, or lose and
re-import). Why not google-cloud-storage? It is not a dependency, and three idempotent REST calls
through google-auth's AuthorizedSession (already installed, same credentials as every other
client) are all this needs. The endpoint follows gcloud's override convention
(CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE), which is also how tests reach a fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from shipit.adapters.gcp.auth import endpoint_override
from shipit.errors import ConflictError, RemoteError

_DEFAULT = "https://storage.googleapis.com"


@dataclass(frozen=True)
class Bucket:
    name: str
    location: str
    versioning: bool
    uniform_access: bool
    public_access_prevention: str | None


class StateBuckets:
    def __init__(self, session: Any = None) -> None:
        self._session = session

    @property
    def session(self) -> Any:
        if self._session is None:
            from shipit.adapters.gcp.bounded import authorized_session

            self._session = authorized_session()
        return self._session

    @property
    def base(self) -> str:
        return (endpoint_override("storage") or _DEFAULT) + "/storage/v1"

    def _request(self, method: str, url: str, *, what: str, **kwargs: Any) -> Any:
        import requests
        from google.auth.exceptions import GoogleAuthError

        try:
            response = self.session.request(method, url, timeout=60, **kwargs)
        except requests.RequestException as exc:
            raise RemoteError(f"could not {what}: cannot reach Cloud Storage ({type(exc).__name__})") from None
        except GoogleAuthError:
            # A 401 makes google-auth try to refresh; a static token cannot be.
            raise RemoteError(
                f"could not {what}: credentials rejected and not refreshable",
                hint="run `gcloud auth application-default login` or refresh CLOUDSDK_AUTH_ACCESS_TOKEN",
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise _error(response, what)
        return response.json() if response.content else {}

    def get(self, name: str) -> Bucket | None:
        data = self._request("GET", f"{self.base}/b/{quote(name, safe='')}", what=f"read bucket {name}")
        return None if data is None else _bucket(data)

    def create(self, name: str, *, project: str, location: str, labels: dict[str, str]) -> Bucket:
        body = {
            "name": name,
            "location": location,
            "versioning": {"enabled": True},
            "labels": labels,
            "iamConfiguration": {
                "uniformBucketLevelAccess": {"enabled": True},
                "publicAccessPrevention": "enforced",
            },
        }
        data = self._request(
            "POST", f"{self.base}/b", what=f"create bucket {name}", params={"project": project}, json=body
        )
        return _bucket(data or body)

    def enable_versioning(self, name: str) -> Bucket:
        data = self._request(
            "PATCH",
            f"{self.base}/b/{quote(name, safe='')}",
            what=f"turn on versioning of bucket {name}",
            json={"versioning": {"enabled": True}},
        )
        if data is None:
            raise RemoteError(f"bucket {name} disappeared while shipit was updating it")
        return _bucket(data)


def _bucket(data: dict[str, Any]) -> Bucket:
    iam = data.get("iamConfiguration") or {}
    return Bucket(
        name=str(data.get("name")),
        location=str(data.get("location", "")),
        versioning=bool((data.get("versioning") or {}).get("enabled")),
        uniform_access=bool((iam.get("uniformBucketLevelAccess") or {}).get("enabled")),
        public_access_prevention=iam.get("publicAccessPrevention"),
    )


def _error(response: Any, what: str) -> RemoteError:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text[:200]
    status = response.status_code
    if status == 409:
        return ConflictError(
            f"could not {what}: the name is taken ({message})",
            hint="bucket names are global: set infra.bucket in shipit.yaml to another name",
        )
    if status in (401, 403):
        return RemoteError(
            f"could not {what}: permission denied ({message})",
            hint="you need roles/storage.admin on the project; run `gcloud auth application-default login`",
        )
    return RemoteError(f"could not {what}: HTTP {status} ({message})")
