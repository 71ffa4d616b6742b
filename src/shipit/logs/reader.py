"""Reading entries: the newest N, then (following) every new one, by polling with a cursor.

Polling instead of the streaming tail API keeps shipit on REST only. Cloud Logging allows 60
`entries.list` calls per minute per project (cloud.google.com/logging/quotas, "Read requests"), so the
default poll interval is 2 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from shipit.logs.query import Json, LogQuery

DEFAULT_POLL_SECONDS = 2.0


class LogApi(Protocol):
    """:class:`shipit.adapters.gcp.logging.LogEntries`, or a fake."""

    def list(
        self, project: str, log_filter: str, *, newest_first: bool, page_size: int, page_token: str | None = None
    ) -> Any: ...


def read_recent(api: LogApi, query: LogQuery) -> list[Json]:
    """The newest ``query.limit`` entries, oldest first (read newest first so the limit keeps the recent ones)."""
    entries: list[Json] = []
    token: str | None = None
    log_filter = query.log_filter()
    while len(entries) < query.limit:
        page = api.list(
            query.project, log_filter, newest_first=True, page_size=query.limit - len(entries), page_token=token
        )
        entries.extend(page.entries)
        token = page.next_page_token
        if not token:
            break
    return list(reversed(entries[: query.limit]))


def stamp_key(stamp: str) -> tuple[str, str]:
    """A sortable key for an RFC 3339 UTC time whatever its fraction digits (`...:02Z` < `...:02.5Z`)."""
    whole, _, rest = stamp.rstrip("Z").partition(".")
    return whole, rest.ljust(9, "0")


@dataclass
class Cursor:
    """Where following stands: the newest timestamp printed and the ids already printed at it."""

    timestamp: str | None = None
    seen: set[str] = field(default_factory=set)

    def admit(self, entry: Json) -> bool:
        stamp, insert_id = str(entry.get("timestamp", "")), str(entry.get("insertId", ""))
        if self.timestamp is not None and stamp_key(stamp) < stamp_key(self.timestamp):
            return False
        if self.timestamp is not None and stamp_key(stamp) == stamp_key(self.timestamp):
            if insert_id in self.seen:
                return False
            self.seen.add(insert_id)
            return True
        self.timestamp, self.seen = stamp, {insert_id}
        return True


def follow(
    api: LogApi,
    query: LogQuery,
    *,
    interval: float = DEFAULT_POLL_SECONDS,
    sleep: Callable[[float], Any] = time.sleep,
    polls: int | None = None,
) -> Iterator[Json]:
    """The recent entries, then every new one as it arrives, until interrupted (or after ``polls`` polls)."""
    cursor = Cursor()
    for entry in read_recent(api, query):
        if cursor.admit(entry):
            yield entry
    done = 0
    while polls is None or done < polls:
        sleep(interval)
        done += 1
        token: str | None = None
        log_filter = query.log_filter(after=cursor.timestamp)
        while True:
            page = api.list(query.project, log_filter, newest_first=False, page_size=1000, page_token=token)
            for entry in page.entries:
                if cursor.admit(entry):
                    yield entry
            token = page.next_page_token
            if not token:
                break
