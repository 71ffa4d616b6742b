"""Colour on a terminal, and --no-color / NO_COLOR turning it off (a real pseudo-terminal, not a mock)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

ESC = b"\x1b["


def _run_in_tty(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, bytes]:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "shipit", *args], cwd=cwd, env=env, stdout=follower, stderr=follower
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        return proc.wait(timeout=60), b"".join(chunks)
    finally:
        os.close(leader)


@pytest.fixture
def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    return {**clean, "TERM": "xterm"}


def test_colour_on_a_terminal(project: Path, env: dict[str, str]) -> None:
    code, output = _run_in_tty(["validate"], project, env)
    assert code == 0
    assert ESC in output and b"shipit.yaml is valid" in output


def test_no_color_option(project: Path, env: dict[str, str]) -> None:
    code, output = _run_in_tty(["validate", "--no-color"], project, env)
    assert code == 0
    assert ESC not in output and b"shipit.yaml is valid" in output


def test_no_color_environment_variable(project: Path, env: dict[str, str]) -> None:
    code, output = _run_in_tty(["validate"], project, {**env, "NO_COLOR": "1"})
    assert code == 0
    assert ESC not in output and b"shipit.yaml is valid" in output
