"""Large and hostile inputs through the loaders, in-process (no interpreter start-up in the figures).

    python benchmarks/hostile_inputs.py

Measures (wall time):
  .env, 16,000 keys        read_env_file + registering every value with the redactor (one batch)
  redact one line          REDACTOR.redact of a log line with those 16,000 values registered
  shipit.yaml, 30k keys    load_config of a 300 KB file with 30,000 unknown keys (50 problems shown)
  alias bomb               load_config of a "billion laughs" document (stops at the expansion budget)
  deep nesting             load_config of 20,000 nested brackets (stops at the depth limit)
Goals: each under 1 s; the .env one under 0.5 s. It measures and prints; it does not assert.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from shipit.config import load_config
from shipit.envfile import read_env_file
from shipit.errors import ConfigError
from shipit.output import REDACTOR

HEAD = "version: 1\napp: acme\nenvironments:\n  prod: {project: acme-prod, region: us-central1}\nservices:\n  api: {}\n"


def timed(label: str, fn: Callable[[], object]) -> None:
    start = time.perf_counter()
    try:
        fn()
    except ConfigError as exc:
        label += f" ({len(exc.issues)} problem(s))"
    print(f"{label:<45} {time.perf_counter() - start:8.3f} s")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = root / ".env"
        env.write_text("".join(f"KEY_{i}=value-{i:06d}-{'x' * 24}\n" for i in range(16_000)))
        timed(".env, 16,000 keys", lambda: read_env_file(env))
        timed("redact one line (16,000 values registered)", lambda: REDACTOR.redact("a line of log output " * 4))
        big = root / "many.yaml"
        big.write_text(HEAD + "".join(f"k{i}: v\n" for i in range(30_000)))
        timed("shipit.yaml, 30,000 unknown keys", lambda: load_config(big))
        bomb = root / "bomb.yaml"
        lines = ["a0: &a0 [lol, lol]"] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
        bomb.write_text(HEAD + "\n".join(lines) + "\n")
        timed("alias bomb (9 levels x 9)", lambda: load_config(bomb))
        deep = root / "deep.yaml"
        deep.write_text(HEAD + "x: " + "[" * 20_000 + "]" * 20_000 + "\n")
        timed("20,000 nested brackets", lambda: load_config(deep))


if __name__ == "__main__":
    main()
