"""Deploy of 20 Cloud Run services against the fake Google API over HTTP, with 50 ms latency per call.

    python benchmarks/deploy.py                 # 20 services, 50 ms, concurrency 10 (the CLI default)
    python benchmarks/deploy.py --services 40 --latency-ms 100 --concurrency 16

Measures (wall time, best of --runs):
  first deploy              20 creates + IAM bindings, in dependency waves
  no-op re-deploy           plan only: nothing changed, so zero write calls, no revision
  no-op at concurrency 1    the same, one call at a time
both in-process (the step: plan + apply) and as the `shipit services deploy` CLI (including interpreter start).
Goals: no-op re-deploy <= 2 s with zero writes; >= 6x faster than at concurrency 1.
It measures and prints; it does not assert (timing belongs in a benchmark, not in tests).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakegcp import FakeGCP  # noqa: E402
from fakegcp.server import FakeGCPServer  # noqa: E402


def config(n: int) -> str:
    lines = [
        "version: 1",
        "app: bench",
        "environments:",
        "  staging: {project: bench-staging, region: us-central1}",
        "services:",
    ]
    for i in range(n):
        lines.append(f"  svc{i:02d}:")
        lines.append("    env: {LOG_LEVEL: info}")
        if i % 5 == 4:  # every fifth service depends on the first one's URL: two waves
            lines.append("    env: {LOG_LEVEL: info, UPSTREAM: '${services.svc00.url}'}")
            lines.pop(-2)
        if i % 2:
            lines.append("    cloud_run: {allow_unauthenticated: true}")
    return "\n".join(lines) + "\n"


def images(n: int) -> dict[str, str]:
    return {
        f"svc{i:02d}": f"us-central1-docker.pkg.dev/bench-staging/bench/svc{i:02d}@sha256:{'a' * 64}" for i in range(n)
    }


def in_process(root: Path, n: int, concurrency: int) -> float:
    from shipit.adapters.gcp import auth
    from shipit.config import load_config, resolve_target
    from shipit.output import Console
    from shipit.steps import services as services_step
    from shipit.steps.context import RunOptions, StepContext

    auth.reset_cache()
    target = resolve_target(load_config(root / "shipit.yaml", "shipit.yaml"), "staging")
    options = RunOptions(images=tuple(images(n).items()), yes=True, concurrency=concurrency)
    ctx = StepContext(target=target, console=Console(stdout=io.StringIO(), stderr=io.StringIO()), options=options)
    start = time.perf_counter()
    plan = services_step.plan(ctx, services_step.DeployOptions(git_sha="0" * 40))
    services_step.apply(ctx, plan)
    return time.perf_counter() - start


def cli(root: Path, n: int, concurrency: int, env: dict[str, str]) -> float:
    argv = [sys.executable, "-m", "shipit", "services", "deploy", "--yes", "--concurrency", str(concurrency)]
    for name, ref in images(n).items():
        argv += ["--image", f"{name}={ref}"]
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=root, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"shipit failed:\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n = args.services
    fake = FakeGCP()
    with FakeGCPServer(fake) as url, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "shipit.yaml").write_text(config(n))
        env = {
            "CLOUDSDK_AUTH_ACCESS_TOKEN": "bench-token",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN": url,
            "SHIPIT_GIT_SHA": "0" * 40,
        }
        os.environ.update(env)
        fake.faults.latency(args.latency_ms / 1000)

        rows: list[tuple[str, float, int, int]] = []

        def measure(label: str, fn: object) -> None:
            best, calls, writes = float("inf"), 0, 0
            for _ in range(args.runs if "no-op" in label else 1):
                fake.reset_calls()
                best = min(best, fn())  # type: ignore[operator]
                calls, writes = len(fake.calls), len(fake.mutating_calls())
            rows.append((label, best, calls, writes))

        measure("first deploy (in-process)", lambda: in_process(root, n, args.concurrency))
        measure(
            f"no-op re-deploy (in-process, concurrency {args.concurrency})",
            lambda: in_process(root, n, args.concurrency),
        )
        measure("no-op re-deploy (in-process, concurrency 1)", lambda: in_process(root, n, 1))
        measure(f"no-op re-deploy (CLI, concurrency {args.concurrency})", lambda: cli(root, n, args.concurrency, env))
        measure("no-op re-deploy (CLI, concurrency 1)", lambda: cli(root, n, 1, env))

    print(f"{n} services, {args.latency_ms:.0f} ms per API call, best of {args.runs} for no-op runs")
    print(f"{'scenario':<52} {'seconds':>8} {'calls':>6} {'writes':>7}")
    for label, seconds, calls, writes in rows:
        print(f"{label:<52} {seconds:>8.2f} {calls:>6} {writes:>7}")
    fast, slow = rows[1][1], rows[2][1]
    cli_fast, cli_slow = rows[3][1], rows[4][1]
    print()
    print(f"no-op re-deploy: {fast:.2f} s in-process, {cli_fast:.2f} s CLI (goal <= 2 s), writes {rows[1][3]} (goal 0)")
    print(
        f"speed-up over concurrency 1: {slow / fast:.1f}x in-process (goal >= 6x), {cli_slow / cli_fast:.1f}x CLI "
        "(includes interpreter start)"
    )


if __name__ == "__main__":
    main()
