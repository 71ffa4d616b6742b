"""Cloud SQL Admin API v1: the databases of an existing instance (a preview's own database).

No google-cloud-* client covers the Admin API over REST, so: google-auth's bounded AuthorizedSession (same
credentials and endpoint override convention as every other client: CLOUDSDK_API_ENDPOINT_OVERRIDES_SQLADMIN).
Writes answer with an Operation, polled until DONE. Errors are mapped by google.api_core from the HTTP response,
then translated like every other API's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import quote

from shipit.adapters.gcp.auth import endpoint_override
from shipit.adapters.gcp.errors import translated, with_retries
from shipit.errors import RemoteError

_DEFAULT = "https://sqladmin.googleapis.com"
_TIMEOUT = 60
# A database insert or delete takes seconds; an instance busy with another operation can take minutes.
OPERATION_TIMEOUT = 600.0

Json = dict[str, Any]


class CloudSqlDatabases:
    def __init__(self, session: Any = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self._session = session
        self._sleep = sleep

    @property
    def session(self) -> Any:
        if self._session is None:
            from shipit.adapters.gcp.bounded import authorized_session

            self._session = authorized_session()
        return self._session

    @staticmethod
    def _url(project: str, path: str) -> str:
        return f"{endpoint_override('sqladmin') or _DEFAULT}/v1/projects/{quote(project, safe='')}/{path}"

    def _request(self, method: str, url: str, body: Json | None = None, missing_ok: bool = False) -> Json | None:
        from google.api_core import exceptions as gexc

        response = self.session.request(method, url, json=body, timeout=_TIMEOUT)
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise gexc.from_http_response(response)  # type: ignore[no-untyped-call]
        data: Json = response.json() if response.content else {}
        return data

    def _databases(self, project: str, instance: str) -> str:
        return self._url(project, f"instances/{quote(instance, safe='')}/databases")

    def get_database(self, project: str, instance: str, name: str) -> Json | None:
        url = f"{self._databases(project, instance)}/{quote(name, safe='')}"
        with translated(api="sqladmin", action="read", resource=f"database {name} of Cloud SQL instance {instance}"):
            return with_retries(lambda: self._request("GET", url, missing_ok=True))

    def list_databases(self, project: str, instance: str) -> list[str]:
        url = self._databases(project, instance)
        with translated(api="sqladmin", action="list the databases of", resource=f"Cloud SQL instance {instance}"):
            data = with_retries(lambda: self._request("GET", url)) or {}
        return sorted(str(d["name"]) for d in data.get("items") or () if d.get("name"))

    def insert_database(self, project: str, instance: str, name: str) -> bool:
        """Create the database; False when it exists already (409: a re-run, or our lost response)."""
        from google.api_core import exceptions as gexc

        url = self._databases(project, instance)
        body = {"name": name, "instance": instance, "project": project}

        def insert() -> Json | None:
            try:
                return self._request("POST", url, body)
            except gexc.Conflict:
                return None

        with translated(api="sqladmin", action="create", resource=f"database {name} on Cloud SQL instance {instance}"):
            operation = with_retries(insert)
            if operation is None:
                return False
            self._wait(project, operation, f"creating database {name}")
        return True

    def delete_database(self, project: str, instance: str, name: str) -> bool:
        """Drop the database; False when it was not there."""
        url = f"{self._databases(project, instance)}/{quote(name, safe='')}"
        with translated(api="sqladmin", action="delete", resource=f"database {name} of Cloud SQL instance {instance}"):
            operation = with_retries(lambda: self._request("DELETE", url, missing_ok=True))
            if operation is None:
                return False
            self._wait(project, operation, f"deleting database {name}")
        return True

    def _operation_url(self, project: str, operation: Json) -> str:
        return self._url(project, f"operations/{quote(str(operation['name']), safe='')}")

    def _wait(self, project: str, operation: Json, what: str) -> None:
        deadline = time.monotonic() + OPERATION_TIMEOUT
        delay = 1.0
        while operation.get("status") != "DONE":
            if time.monotonic() > deadline:
                raise RemoteError(f"Cloud SQL is still {what} after {int(OPERATION_TIMEOUT)}s", hint="re-run later")
            self._sleep(delay)
            delay = min(delay * 2, 10.0)
            polled: Json | None = with_retries(partial(self._request, "GET", self._operation_url(project, operation)))
            operation = polled or {}
        errors = (operation.get("error") or {}).get("errors") or ()
        if errors:
            detail = "; ".join(str(e.get("message") or e.get("code")) for e in errors)
            raise RemoteError(f"Cloud SQL failed {what}: {detail}")
