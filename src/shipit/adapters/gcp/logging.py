"""Cloud Logging `entries.list`: the only Logging call shipit makes.

Why not google-cloud-logging? Its generated client speaks gRPC only (no REST transport), and one
POST through google-auth's AuthorizedSession (same credentials and endpoint override convention as
every other client: CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING) is all `shipit logs` needs. Errors are
mapped by google.api_core from the HTTP response, then translated like every other API's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shipit.adapters.gcp.auth import endpoint_override
from shipit.adapters.gcp.errors import translated, with_retries

_DEFAULT = "https://logging.googleapis.com"
# entries.list returns at most 1,000 entries a page (ListLogEntriesRequest.pageSize).
MAX_PAGE_SIZE = 1000

Json = dict[str, Any]


@dataclass(frozen=True)
class LogPage:
    entries: tuple[Json, ...]
    next_page_token: str | None


class LogEntries:
    def __init__(self, session: Any = None) -> None:
        self._session = session

    @property
    def session(self) -> Any:
        if self._session is None:
            from shipit.adapters.gcp.bounded import authorized_session

            self._session = authorized_session()
        return self._session

    def list(
        self, project: str, log_filter: str, *, newest_first: bool, page_size: int, page_token: str | None = None
    ) -> LogPage:
        body: Json = {
            "resourceNames": [f"projects/{project}"],
            "filter": log_filter,
            "orderBy": "timestamp desc" if newest_first else "timestamp asc",
            "pageSize": max(1, min(page_size, MAX_PAGE_SIZE)),
        }
        if page_token:
            body["pageToken"] = page_token
        url = (endpoint_override("logging") or _DEFAULT) + "/v2/entries:list"

        def call() -> Json:
            from google.api_core import exceptions as gexc

            response = self.session.request("POST", url, json=body, timeout=60)
            if response.status_code >= 400:
                raise gexc.from_http_response(response)  # type: ignore[no-untyped-call]
            return response.json() if response.content else {}

        with translated(api="logging", action="read the logs of", resource=f"project {project}"):
            data = with_retries(call)
        return LogPage(tuple(data.get("entries") or ()), data.get("nextPageToken") or None)
