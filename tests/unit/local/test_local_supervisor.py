"""The process supervisor of the native runtime, with real processes."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

from shipit.local.supervisor import ProcessSpec, Supervisor, expand


def test_expand_uses_the_service_env_only() -> None:
    assert expand(("serve", "--port", "$PORT", "${HOST}:x", "$UNKNOWN"), {"PORT": "8080", "HOST": "h"}) == (
        "serve",
        "--port",
        "8080",
        "h:x",
        "$UNKNOWN",
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_prefixed_output_exit_and_stop_of_whole_groups(tmp_path: Path) -> None:
    out = io.StringIO()
    sup = Supervisor(out, color=False)
    env = {**os.environ, "WHO": "one"}
    pidfile = tmp_path / "grandchild.pid"
    # "long" leaves a grandchild behind in its group, ignoring SIGTERM: stop() must still kill it
    sup.start(ProcessSpec("long", ("sh", "-c", f"trap '' TERM; sleep 300 & echo $! > {pidfile}; wait"), tmp_path, env))
    sup.start(ProcessSpec("short", ("sh", "-c", "echo hello $WHO; exit 3"), tmp_path, env))
    exited = sup.wait_any()
    assert (exited.name, exited.returncode) == ("short", 3)
    deadline = time.monotonic() + 10
    # The shell creates the file before it writes the pid into it: wait for the content.
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    sup.stop(grace=1)
    assert not _alive(grandchild)
    lines = out.getvalue().splitlines()
    assert any(re.fullmatch(r"\d\d:\d\d:\d\d short +\| hello one", line) for line in lines), lines
