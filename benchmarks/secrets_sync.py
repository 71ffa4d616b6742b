"""`shipit secrets sync` speed: 300 keys against the fake Secret Manager over HTTP, 50 ms latency per call.

    python benchmarks/secrets_sync.py               # 3 runs each, median, at shipit's default concurrency
    python benchmarks/secrets_sync.py --keys 300 --latency-ms 50 --runs 5 --cli
    python benchmarks/secrets_sync.py --concurrency 8   # secrets.concurrency: 8 instead of the default

Measures the sync itself (plan + apply in one process, real SecretManagerServiceClient over real HTTP to
`python -m fakegcp` in its own process) for:
  cold     every secret new: 1 list + 300 creates + 300 add-version (600 writes, the per-minute quota)
  warm     nothing changed: 1 list + 300 access calls (the list in the same pool as the reads), no write
  warm@1   the same warm sync with secrets.concurrency = 1
Goals: warm <= 2 s, cold <= 8 s, warm at the default concurrency (10) >= 6x faster than at 1.
A warm sync is bounded by latency: each worker makes ~300/concurrency calls in a row, and each costs the
50 ms plus ~3 ms of client CPU (api-core, requests) on this machine, so 8 workers need ~2.05 s.
--cli also times the whole `shipit secrets sync` command (adds interpreter start and imports).

The write pacer is process-wide and allows 600 writes in any rolling minute, so two cold syncs of 300 keys
in one minute would wait (as they should against the real quota); the benchmark resets it between runs.
It measures and prints; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

GOALS = {"cold": 8.0, "warm": 2.0}


def _config(keys: int, concurrency: int) -> str:
    names = ", ".join(f"KEY_{i:03d}" for i in range(keys))
    return (
        "version: 1\napp: bench\n"
        "environments:\n  staging: {project: bench-staging, region: us-central1}\n"
        f"secrets: {{concurrency: {concurrency}}}\n"
        f"services:\n  api:\n    secrets: [{names}]\n"
    )


def _start_fake(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakegcp", "--port", "0", "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit("could not start python -m fakegcp")
    return proc, url


def _sync_in_process(root: Path) -> tuple[float, int]:
    import io

    from shipit.adapters.gcp import secrets as adapter
    from shipit.config import load_config, resolve_target
    from shipit.output import Console
    from shipit.steps import secrets as step
    from shipit.steps.context import StepContext

    adapter._pacers.clear()  # a fresh process per sync in real use
    target = resolve_target(load_config(root / "shipit.yaml"), "staging")
    ctx = StepContext(target=target, console=Console(stdout=io.StringIO(), stderr=io.StringIO()))
    start = time.perf_counter()
    plan = step.plan(ctx)
    step.apply(ctx, plan)
    return time.perf_counter() - start, len(plan.pending)


def _sync_cli(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "shipit", "secrets", "sync", "-q"], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"shipit secrets sync failed: {result.stderr[-800:]}")
    return time.perf_counter() - start, -1


def main() -> int:
    from shipit.concurrency import API_CONCURRENCY

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--concurrency", type=int, default=API_CONCURRENCY, help="the concurrency to compare with 1 (default: shipit's)"
    )
    parser.add_argument("--cli", action="store_true", help="also time the `shipit secrets sync` command")
    args = parser.parse_args()

    from fakegcp.control import FakeControl

    fake_proc, url = _start_fake(args.latency_ms)
    os.environ.update(CLOUDSDK_AUTH_ACCESS_TOKEN="bench-token", CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER=url)
    control = FakeControl(url)
    try:
        with tempfile.TemporaryDirectory(prefix="shipit-bench-") as tmp:
            root = Path(tmp)
            (root / ".env").write_text("".join(f"KEY_{i:03d}=bench-value-{i:03d}-xyz\n" for i in range(args.keys)))
            modes = [("in-process", _sync_in_process)] + ([("cli", _sync_cli)] if args.cli else [])
            print(f"{args.keys} keys, {args.latency_ms:.0f} ms per call, fake at {url}, median of {args.runs} runs")
            print(f"{'case':<28} {'median s':>9} {'min s':>7} {'changes':>8} {'writes':>7} {'calls':>6}  goal")
            for label, sync in modes:
                medians: dict[str, float] = {}
                for case, concurrency, cold in (
                    ("cold", args.concurrency, True),
                    ("warm", args.concurrency, False),
                    ("warm@1", 1, False),
                ):
                    (root / "shipit.yaml").write_text(_config(args.keys, concurrency))
                    samples, changes, writes, calls = [], 0, 0, 0
                    for _ in range(args.runs):
                        if cold:
                            control.reset()
                            control.latency(args.latency_ms / 1000.0)
                        elif not control.state()["secrets"]:
                            sync(root)  # warm needs a synced project first
                        control.reset_calls()
                        seconds, changes = sync(root)
                        log = control.calls()
                        writes, calls = sum(1 for c in log if c["mutating"]), len(log)
                        samples.append(seconds)
                    medians[case] = statistics.median(samples)
                    goal = GOALS.get(case)
                    verdict = f"<= {goal:.0f} s {'ok' if medians[case] <= goal else 'MISSED'}" if goal else ""
                    print(
                        f"{label + ' ' + case:<28} {medians[case]:>9.2f} {min(samples):>7.2f} "
                        f"{changes if changes >= 0 else '-':>8} {writes:>7} {calls:>6}  {verdict}"
                    )
                ratio = medians["warm@1"] / medians["warm"]
                print(f"{label + ' warm@1 / warm':<28} {ratio:>9.1f}x{'':>32}>= 6x {'ok' if ratio >= 6 else 'MISSED'}")
    finally:
        fake_proc.terminate()
        fake_proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
