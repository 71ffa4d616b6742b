"""Builds of three services on the real Docker engine (the test engine: vfs, classic builder), local registry.

    python benchmarks/build.py
    python benchmarks/build.py --rounds 8        # more RUN work per service

Measures (wall time, in-process: the build step's plan + apply):
  cold, parallel      three services, nothing cached (fresh contexts), built 3 at a time
  cold, sequential    the same builds one at a time (--jobs 1), again nothing cached
  no change           plan + apply again: must build nothing
  one file changed    one included file touched in one service: only that service rebuilds
and the `shipit build` CLI for the no-change case (including interpreter start-up).
Goals: no change <= 5% of cold and builds nothing; after the one-file change only that service
rebuilds; parallel cold >= 1.5x faster than sequential. It measures and prints; it does not assert.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from engines import docker as docker_engine  # noqa: E402
from engines import registry as registry_engine  # noqa: E402

SERVICES = ("api", "worker", "web")


def dockerfile(rounds: int) -> str:
    # Real work in RUN steps of a first stage (files generated and hashed), only the artifact in the last.
    work = "\n".join(
        f"RUN dd if=/dev/urandom of=/work/blob{i} bs=1M count=8 2>/dev/null && sha256sum /work/blob{i} >> /work/sums"
        for i in range(rounds)
    )
    return (
        "FROM busybox AS build\n"
        "COPY src /src\n"
        "RUN mkdir -p /work && cat /src/* > /work/all.txt\n"
        f"{work}\n"
        "RUN sha256sum /work/all.txt >> /work/sums && rm -f /work/blob*\n"
        "FROM busybox AS runtime\n"
        "COPY --from=build /work/sums /app/sums\n"
        "USER app\n"
        'CMD ["cat", "/app/sums"]\n'
    )


def write_project(root: Path, repository: str, rounds: int, nonce: str) -> None:
    lines = [
        "version: 1",
        "app: bench",
        "environments:",
        "  staging: {project: bench-proj, region: us-central1}",
        f"registry: {{repository: {repository}}}",
        "services:",
    ]
    for name in SERVICES:
        lines.append(f"  {name}: {{build: {{context: ./{name}}}}}")
        src = root / name / "src"
        src.mkdir(parents=True, exist_ok=True)
        (root / name / "Dockerfile").write_text(dockerfile(rounds))
        (root / name / ".dockerignore").write_text("tmp/\n")
        for i in range(20):
            # The nonce makes every project's layers new to the engine: a truly cold build.
            (src / f"module{i}.txt").write_text(f"{name} {i} {nonce}\n" * 50)
    (root / "shipit.yaml").write_text("\n".join(lines) + "\n")


def step_run(root: Path, jobs: int) -> tuple[float, int]:
    """plan + apply of the build step in-process; returns (seconds, images built)."""
    from shipit.config import load_config, resolve_target
    from shipit.output import Console
    from shipit.steps import build
    from shipit.steps.context import RunOptions, StepContext

    started = time.perf_counter()
    target = resolve_target(load_config(root / "shipit.yaml"), "staging")
    ctx = StepContext(target, Console(stdout=io.StringIO(), stderr=io.StringIO()), RunOptions(jobs=jobs))
    plan = build.plan(ctx)
    result = build.apply(ctx, plan)
    seconds = time.perf_counter() - started
    return seconds, sum(1 for r in result.values() if r.source == "built")


def cleanup(repository: str) -> None:
    refs = subprocess.run(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True, check=False
    ).stdout.split()
    mine = [r for r in refs if f"/{repository}/" in r]
    if mine:
        subprocess.run(["docker", "image", "rm", "--force", *mine], capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4, help="RUN steps of real work per service")
    args = parser.parse_args()

    engine = docker_engine.ensure_engine()
    registry = registry_engine.start_registry()
    os.environ.update(SHIPIT_REGISTRY_HOST=registry.host, CLOUDSDK_AUTH_ACCESS_TOKEN=registry.token)
    repos: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            seq_root, par_root = Path(tmp) / "seq", Path(tmp) / "par"
            seq_repo, par_repo = "s" + uuid.uuid4().hex[:8], "p" + uuid.uuid4().hex[:8]
            repos += [seq_repo, par_repo]
            write_project(seq_root, seq_repo, args.rounds, uuid.uuid4().hex)
            write_project(par_root, par_repo, args.rounds, uuid.uuid4().hex)

            # Parallel first: any engine warm-up then counts against the parallel figure, not for it.
            cold, n_cold = step_run(par_root, jobs=3)
            sequential, n_seq = step_run(seq_root, jobs=1)
            nochange, n_nochange = step_run(par_root, jobs=3)
            (par_root / "api" / "tmp").mkdir()
            (par_root / "api" / "tmp" / "scratch.txt").write_text("ignored")
            ignored, n_ignored = step_run(par_root, jobs=3)
            (par_root / "worker" / "src" / "module3.txt").write_text("one changed file\n")
            onefile, n_onefile = step_run(par_root, jobs=3)

            env = {**os.environ, "NO_COLOR": "1"}
            started = time.perf_counter()
            cli = subprocess.run(
                [sys.executable, "-m", "shipit", "build"], cwd=par_root, env=env, capture_output=True, text=True
            )
            cli_seconds = time.perf_counter() - started
            if cli.returncode != 0:
                print(cli.stderr)
    finally:
        for repo in repos:
            cleanup(repo)
        registry.stop()
        engine.stop()

    print(f"engine: {engine.host} (docker {engine.server_version}), {os.cpu_count()} CPUs, rounds={args.rounds}")
    print(f"cold, sequential (-j1)        {sequential:7.2f} s   built {n_seq}")
    print(f"cold, parallel (-j3)          {cold:7.2f} s   built {n_cold}")
    print(f"no change                     {nochange:7.2f} s   built {n_nochange}")
    print(f"ignored file added            {ignored:7.2f} s   built {n_ignored}")
    print(f"one file changed in 'worker'  {onefile:7.2f} s   built {n_onefile}")
    print(f"no change, `shipit build` CLI {cli_seconds:7.2f} s   (including interpreter start-up)")
    print()
    ratio = nochange / cold
    speedup = sequential / cold
    print(
        f"goal: no change <= 5% of cold and builds nothing: {ratio:.1%}, built {n_nochange}  "
        f"{'OK' if ratio <= 0.05 and n_nochange == 0 else 'MISSED'}"
    )
    print(
        f"goal: one-file change rebuilds only that service: built {n_onefile}  {'OK' if n_onefile == 1 else 'MISSED'}"
    )
    print(f"goal: parallel cold >= 1.5x sequential: {speedup:.2f}x  {'OK' if speedup >= 1.5 else 'MISSED'}")
    print(f"(CLI no-change run: {cli_seconds / cold:.1%} of the cold build)")


if __name__ == "__main__":
    main()
