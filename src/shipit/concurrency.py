"""One bounded thread pool for every step that calls APIs, docker or the registry for many items at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")

# Parallel API calls (Secret Manager, Cloud Run, Artifact Registry) unless configured otherwise. Ten is what
# requests keeps open per host, so no connection is thrown away; the published quotas are enforced by pacing,
# not by this number.
API_CONCURRENCY = 10
# Parallel docker builds and pushes: each is CPU-, disk- and network-heavy on the developer's own machine.
BUILD_JOBS = 4


def bounded_map(fn: Callable[[T], R], items: Sequence[T], workers: int, *, name: str = "shipit") -> list[R]:
    """``[fn(item) for item in items]`` with at most ``workers`` at a time, results in order. The first
    failure cancels what has not started, waits for what is in flight (a write is never abandoned
    half-way), and is raised."""
    if not items:
        return []
    if workers <= 1 or len(items) == 1:
        return [fn(item) for item in items]
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix=name)
    futures: list[Future[R]] = []
    try:
        futures = [pool.submit(fn, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            error = future.exception() if future in done else None
            if error is not None:
                raise error
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
