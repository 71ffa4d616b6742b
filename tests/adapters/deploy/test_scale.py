"""A release of 200 services through the real run_v2 clients against the fake over HTTP: paced writes, 429s,
no-op re-deploys and bounded threads. Behaviour only; how fast it goes is benchmarks/scale.py's business."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakegcp import FakeGCP
from fakegcp.server import FakeGCPServer
from pacing_support import VirtualClock
from shipit import pacing
from shipit.config import load_config, resolve_target
from shipit.output import Console
from shipit.plan import Action
from shipit.remote import Remote
from shipit.steps import services as services_step
from shipit.steps.context import RunOptions, StepContext
from shipit.steps.services.api import HealthResult

N = 200
RATE = 120
CONCURRENCY = 8
PROJECT, REGION = "scale-staging", "us-central1"
CREATE = "run.projects.locations.services.create"
SET_IAM = "run.projects.locations.services.setIamPolicy"


def config(n: int, rate: int) -> str:
    lines = [
        "version: 1",
        "app: scale",
        "environments:",
        f"  staging: {{project: {PROJECT}, region: {REGION}, deploy: {{write_rate_per_minute: {rate}}}}}",
        "services:",
    ]
    for i in range(n):
        lines.append(f"  svc{i:03d}:")
        # Every tenth service needs the first one's URL: a second wave, re-rendered at apply time.
        upstream = ", UPSTREAM: '${services.svc000.url}'" if i % 10 == 9 else ""
        lines.append(f"    env: {{LOG_LEVEL: info{upstream}}}")
        if i % 2:
            lines.append("    cloud_run: {allow_unauthenticated: true}")
    return "\n".join(lines) + "\n"


def images(n: int) -> tuple[tuple[str, str], ...]:
    return tuple(
        (f"svc{i:03d}", f"{REGION}-docker.pkg.dev/{PROJECT}/scale/svc{i:03d}@sha256:{'a' * 64}") for i in range(n)
    )


def healthy(url: str, path: str, timeout: float) -> HealthResult:
    return HealthResult(True, "HTTP 200")


class Release:
    def __init__(self, root: Path, fake: FakeGCP) -> None:
        self.root = root
        self.fake = fake
        (root / "shipit.yaml").write_text(config(N, RATE))

        self.stdout = io.StringIO()

    def deploy(self, *, json_mode: bool = False) -> tuple[Any, Any]:
        target = resolve_target(load_config(self.root / "shipit.yaml", "shipit.yaml"), "staging")
        options = RunOptions(images=images(N), yes=True, concurrency=CONCURRENCY)
        self.stdout = io.StringIO()
        ctx = StepContext(
            target=target,
            console=Console(json_mode=json_mode, stdout=self.stdout, stderr=io.StringIO()),
            options=options,
            remote=Remote(health=healthy),
        )
        plan = services_step.plan(ctx, services_step.DeployOptions(git_sha="0" * 40))
        return plan, services_step.apply(ctx, plan)


@pytest.fixture
def release(
    tmp_path: Path, fake_gcp_server: FakeGCPServer, gcp_token: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Release]:
    from shipit.adapters.gcp import auth

    monkeypatch.setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN", fake_gcp_server.url)
    monkeypatch.setenv("SHIPIT_GIT_SHA", "0" * 40)
    auth.reset_cache()
    yield Release(tmp_path, fake_gcp_server.fake)


@pytest.fixture
def bucket(pacing_clock: VirtualClock) -> pacing.TokenBucket:
    """The region's bucket, on the virtual clock, recording when each write was let through."""
    installed = pacing.TokenBucket(RATE, clock=pacing_clock.monotonic, sleep=pacing_clock.sleep, record=True)
    pacing.install(PROJECT, REGION, installed)
    return installed


def max_in_window(stamps: list[float], window: float = 60.0) -> int:
    stamps, best, lo = sorted(stamps), 0, 0
    for hi, t in enumerate(stamps):
        while t - stamps[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_first_release_paces_every_write_under_the_rate(release: Release, bucket: pacing.TokenBucket) -> None:
    plan, result = release.deploy()

    assert [c.action for c in plan.changes].count(Action.CREATE) == N
    assert len(release.fake.run.services) == N
    assert all(r["action"] == "create" for r in result.services.values())
    writes = release.fake.mutating_calls()
    # Every write went through the region's bucket, and no 60 s of the (virtual) clock saw more than the rate.
    assert bucket.acquired == len(writes) == N + N // 2  # a create each, an IAM binding for the public half
    assert bucket.log is not None
    assert max_in_window(bucket.log) <= RATE
    assert bucket.log[-1] >= 60.0  # 300 writes at 120 a minute cannot go out in the first minute


def test_a_no_op_re_deploy_writes_nothing(release: Release, bucket: pacing.TokenBucket) -> None:
    release.deploy()
    release.fake.reset_calls()
    before = bucket.acquired

    plan, result = release.deploy(json_mode=True)

    assert all(c.action is Action.NOOP for c in plan.changes)
    assert release.fake.mutating_calls() == []
    assert bucket.acquired == before
    assert {r["action"] for r in result.services.values()} == {"no-op"}
    # The plan read the region with one list, and the policies of the services, not N GETs of services.
    methods = [c.method_id for c in release.fake.calls]
    assert methods.count("run.projects.locations.services.list") == 1
    assert "run.projects.locations.services.get" not in methods
    # --json: an event per wave, counting the unchanged services.
    events = [json.loads(line) for line in release.stdout.getvalue().splitlines()]
    waves = [e for e in events if e["event"] == "wave_finished"]
    assert [(w["wave"], w["waves"]) for w in waves] == [(1, 2), (2, 2)]
    assert sum(w["unchanged"] for w in waves) == N
    assert all(w["changed"] == 0 and w["failed"] == 0 for w in waves)


def test_429s_are_retried_and_no_write_is_applied_twice(
    release: Release, bucket: pacing.TokenBucket, pacing_clock: VirtualClock
) -> None:
    release.fake.faults.fail_every(CREATE, status=429, every=9, times=12, message="Quota exceeded")
    release.fake.faults.fail_every(SET_IAM, status=429, every=7, times=6, message="Quota exceeded")

    _, result = release.deploy()

    assert all(r["action"] == "create" for r in result.services.values())
    creates = release.fake.calls_to(CREATE)
    refused = [c for c in creates if c.status == 429]
    applied = [c for c in creates if c.status == 200]
    assert len(refused) == 12
    # Each service was created by exactly one applied call: a 429 was re-sent, an applied create never was.
    assert sorted(c.query["serviceId"] for c in applied) == sorted(f"svc{i:03d}" for i in range(N))
    assert not [c for c in creates if c.status == 409]
    iam = release.fake.calls_to(SET_IAM)
    assert len([c for c in iam if c.status == 200]) == N // 2
    # The re-sends took tokens too, and the back-off waited on the pacing clock.
    assert bucket.acquired == len(creates) + len(iam)
    assert bucket.log is not None
    assert max_in_window(bucket.log) <= RATE
    assert pacing_clock.slept > 0


def test_threads_stay_bounded(release: Release, bucket: pacing.TokenBucket) -> None:
    """However many services, the deploy runs on a fixed pool: never a thread per service."""
    peak: dict[str, int] = {}
    baseline = threading.active_count()
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.001):
            names = [t.name for t in threading.enumerate()]
            peak["total"] = max(peak.get("total", 0), len(names))
            peak["run"] = max(peak.get("run", 0), sum(n.startswith("run") for n in names))

    sampler = threading.Thread(target=sample, name="sampler")
    sampler.start()
    try:
        release.deploy()
    finally:
        stop.set()
        sampler.join()
    assert peak["run"] <= CONCURRENCY
    # The pool, the sampler, the image resolver's pool and the fake server's threads for the open connections:
    # a few times the concurrency, nowhere near a thread per service.
    assert peak["total"] - baseline <= 4 * CONCURRENCY
