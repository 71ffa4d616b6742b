"""A release at scale against the fake Google API over HTTP, 50 ms latency per call, in one run.

    python benchmarks/scale.py                          # 20 and 200 services, plan at 1,000
    python benchmarks/scale.py --sizes 200 --first-rate 600 --latency-ms 100

For each size: the first deploy (creates + IAM bindings, paced at --first-rate writes per minute: the
observed maximum writes in any 60 s window, and the mean rate, never above it), then a no-op re-deploy
(best of --runs; wall time, writes: goal 0 writes and <= 3 s at 200 services), each with the deploying
process's peak RSS (goal <= 300 MB) and its peak thread count. Then the services plan of --plan-size
services for a first release (wall time). Every deploy runs in its own process (the fake server stays in
this one), so the RSS is shipit's own. It measures and prints; it does not assert.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from deploy import config as base_config  # noqa: E402
from deploy import images, in_process  # noqa: E402

REGION_LINE = "  staging: {project: bench-staging, region: us-central1}"


def config(n: int, rate: int) -> str:
    env = f"  staging: {{project: bench-staging, region: us-central1, deploy: {{write_rate_per_minute: {rate}}}}}"
    return base_config(n).replace(REGION_LINE, env)


# ---------------------------------------------------------------------------- the deploying process


def child(mode: str, root: Path, n: int) -> None:
    import resource

    peak_threads = 1
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_threads
        while not done.wait(0.005):
            peak_threads = max(peak_threads, threading.active_count())

    threading.Thread(target=sample, daemon=True).start()
    # Imports are the process's start-up (the parent reports the whole process too), not the deploy's work.
    import google.cloud.run_v2  # noqa: F401

    import shipit.steps.services  # noqa: F401

    start = time.perf_counter()
    if mode == "deploy":
        in_process(root, n, 10)
    else:
        plan_only(root, n)
    seconds = time.perf_counter() - start
    done.set()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_mb": rss_kb / 1024, "threads": peak_threads - 1}))


def plan_only(root: Path, n: int) -> None:
    import io

    from shipit.config import load_config, resolve_target
    from shipit.output import Console
    from shipit.steps import services as services_step
    from shipit.steps.context import RunOptions, StepContext

    target = resolve_target(load_config(root / "shipit.yaml", "shipit.yaml"), "staging")
    options = RunOptions(images=tuple(images(n).items()), dry_run=True)
    ctx = StepContext(target=target, console=Console(stdout=io.StringIO(), stderr=io.StringIO()), options=options)
    plan = services_step.plan(ctx, services_step.DeployOptions(git_sha="0" * 40))
    assert len(plan.changes) == n


def run_child(mode: str, root: Path, n: int, env: dict[str, str]) -> dict[str, float]:
    argv = [sys.executable, __file__, "--child", mode, "--root", str(root), "--services", str(n)]
    start = time.perf_counter()
    result = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    process = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{mode} of {n} services failed:\n{result.stderr}")
    return {**json.loads(result.stdout.strip().splitlines()[-1]), "process": process}


# ---------------------------------------------------------------------------- the measuring process


def max_in_window(stamps: list[float], window: float = 60.0) -> int:
    stamps = sorted(stamps)
    best, lo = 0, 0
    for hi, t in enumerate(stamps):
        while t - stamps[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20,200")
    parser.add_argument("--plan-size", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--first-rate", type=int, default=240, help="writes per minute for the first deploys")
    parser.add_argument("--runs", type=int, default=3, help="no-op re-deploys per size (the best is shown)")
    parser.add_argument("--child", choices=["deploy", "plan"], help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--services", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, Path(args.root), args.services)
        return

    from fakegcp import FakeGCP
    from fakegcp.server import FakeGCPServer

    fake = FakeGCP()
    rows: list[str] = []
    with FakeGCPServer(fake) as url, tempfile.TemporaryDirectory() as tmp:
        env = {
            "CLOUDSDK_AUTH_ACCESS_TOKEN": "bench-token",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN": url,
            "SHIPIT_GIT_SHA": "0" * 40,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        }
        for n in [int(s) for s in args.sizes.split(",")]:
            root = Path(tmp) / f"s{n}"
            root.mkdir()
            (root / "shipit.yaml").write_text(config(n, args.first_rate))
            fake.reset()
            fake.faults.latency(args.latency_ms / 1000)
            first = run_child("deploy", root, n, env)
            writes = [c.at for c in fake.mutating_calls()]
            span = max(writes) - min(writes) if len(writes) > 1 else 0.0
            window = max_in_window(writes)
            # A mean over less than a minute is dominated by the burst: only the 60 s windows say it all then.
            mean = f"mean {len(writes) / span * 60:.0f}/min" if span >= 60 else "all within one minute"
            rows.append(
                f"{n:>5} first deploy     {first['seconds']:>7.2f} s  {len(writes):>4} writes  "
                f"max {window} in any 60 s, {mean} (configured {args.first_rate}/min)  "
                f"RSS {first['rss_mb']:.0f} MB  threads {first['threads']:.0f}"
            )
            noops = []
            for _ in range(args.runs):
                fake.reset_calls()
                noops.append(run_child("deploy", root, n, env))
                calls, noop_writes = len(fake.calls), len(fake.mutating_calls())
            noop = min(noops, key=lambda r: r["seconds"])
            rows.append(
                f"{n:>5} no-op re-deploy  {noop['seconds']:>7.2f} s  ({noop['process']:.2f} s with interpreter start)  "
                f"{noop_writes} writes  {calls} calls  "
                f"RSS {noop['rss_mb']:.0f} MB  threads {noop['threads']:.0f}"
            )
        root = Path(tmp) / f"plan{args.plan_size}"
        root.mkdir()
        (root / "shipit.yaml").write_text(config(args.plan_size, args.first_rate))
        fake.reset()
        fake.faults.latency(args.latency_ms / 1000)
        planned = run_child("plan", root, args.plan_size, env)
        rows.append(
            f"{args.plan_size:>5} plan (first release) {planned['seconds']:>7.2f} s  {len(fake.calls)} calls  "
            f"RSS {planned['rss_mb']:.0f} MB  threads {planned['threads']:.0f}"
        )
    print(f"{args.latency_ms:.0f} ms per API call; goals at 200: no-op <= 3 s with 0 writes, RSS <= 300 MB")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
