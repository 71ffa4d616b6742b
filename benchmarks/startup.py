"""Startup time of the shipit CLI: median wall time over N runs, against `python -c pass` as the baseline.

    python benchmarks/startup.py            # 15 runs each
    python benchmarks/startup.py --runs 30

Goal: `shipit --help` <= 100 ms median (gcloud's `gcloud run deploy --help` takes ~1.2 s on the same machines).
Prints a table and exits 0; it measures, it does not assert (timing belongs in a benchmark, not in tests).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 100.0


def _shipit() -> list[str]:
    # The console script installed next to this interpreter; a pyenv/asdf shim in front of it would add its own
    # ~100 ms of bash that is not shipit's startup.
    script = Path(sys.executable).parent / "shipit"
    if script.is_file():
        return [str(script)]
    found = shutil.which("shipit")
    return [found] if found else [sys.executable, "-m", "shipit"]


def _median_ms(argv: list[str], runs: int) -> tuple[float, float]:
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, check=False)  # warm caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, check=False)
        samples.append((time.perf_counter() - start) * 1000)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.decode()[-500:]}")
    return statistics.median(samples), min(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="runs per command (>= 10 recommended)")
    args = parser.parse_args()
    shipit = _shipit()
    cases = [
        ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
        ("shipit --help", [*shipit, "--help"]),
        ("shipit validate -f shipit.yaml.example", [*shipit, "validate", "-q", "-f", "shipit.yaml.example"]),
    ]
    print(f"{args.runs} runs each; shipit = {' '.join(shipit)}")
    print(f"{'command':<42} {'median ms':>10} {'min ms':>8} {'over baseline':>14}")
    baseline = None
    results: dict[str, float] = {}
    for label, argv in cases:
        median, fastest = _median_ms(argv, args.runs)
        baseline = median if baseline is None else baseline
        results[label] = median
        print(f"{label:<42} {median:>10.1f} {fastest:>8.1f} {median - baseline:>+14.1f}")
    help_ms = results["shipit --help"]
    verdict = "meets" if help_ms <= GOAL_MS else "misses"
    print(f"shipit --help: {help_ms:.1f} ms median, {verdict} the {GOAL_MS:.0f} ms goal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
