"""Ctrl-C during the build: exit 130 with one line; a re-run converges; the run after that is a no-op."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from pipeline_support import Project, ProjectFactory, Result, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.terraform]


def _interrupt_when(project: Project, marker: str) -> Result:
    """Start `shipit deploy --yes`, and press Ctrl-C (SIGINT to its process group, as a terminal does)
    once ``marker`` has appeared in its output."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "shipit", "deploy", "--yes"],
        cwd=project.root,
        env=project.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=lambda: out.extend(proc.stdout or []), daemon=True),
        threading.Thread(target=lambda: err.extend(proc.stderr or []), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        wait_for(lambda: marker in "".join(out) or proc.poll() is not None, 120, f"{marker!r} in the output")
        assert proc.poll() is None, "shipit finished before it could be interrupted:\n" + "".join(out + err)
        os.killpg(proc.pid, signal.SIGINT)
        returncode = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    for reader in readers:
        reader.join(timeout=10)
    return project.record(Result(("deploy", "--yes"), returncode, "".join(out), "".join(err)))


def test_ctrl_c_during_build_then_rerun_converges(project_factory: ProjectFactory) -> None:
    project = project_factory(slow_build=True)

    interrupted = _interrupt_when(project, "sleep 3")

    assert interrupted.returncode == 130, str(interrupted)
    lines = [line for line in interrupted.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "interrupted" in lines[0], str(interrupted)
    assert "Traceback" not in interrupted.output
    assert project.fake.run.services == {}, "services were deployed after Ctrl-C"

    project("deploy", "--yes")
    assert set(project.fake.run.services) == {
        "projects/acme-staging/locations/us-central1/services/api",
        "projects/acme-staging/locations/us-central1/services/web",
    }
    project.fake.reset_calls()
    again = project("deploy", "--yes")
    assert "no changes" in again.output
    assert project.mutating() == []
