"""The confirmation policy as a user meets it: `shipit` as a subprocess, without a terminal and on a real pty."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from e2e.deploy.conftest import Cli, image
from e2e_support import fake_server_env

UNREACHABLE = "http://127.0.0.1:9/"  # nothing listens: any API call would be retried, then fail with exit 1


def _env(url: str) -> dict[str, str]:
    return {**os.environ, **fake_server_env(url), "NO_COLOR": "1", "SHIPIT_GIT_SHA": "1234567"}


def _run(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipit", *args],
        cwd=root,
        env=_env(url),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_without_a_terminal_refuses_before_any_api_call(cli: Cli) -> None:
    # The API is down: the refusal must come first (exit 2), not after the online plan's retries (exit 1).
    # Local checks come before it (a missing Dockerfile is bad input too): the project passes them.
    (cli.root / "Dockerfile").write_text("FROM busybox\n")
    down = _run(cli.root, UNREACHABLE, "deploy")
    assert (down.returncode, down.stdout) == (2, "")
    assert down.stderr == (
        "error: refusing to deploy without confirmation: there is no terminal to ask on (pass --yes to go ahead)\n"
    )
    for args in (("deploy", "--only", "services"), ("services", "deploy"), ("rollback",), ("promote",)):
        result = _run(cli.root, cli.server.url, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "(pass --yes to go ahead)" in result.stderr
    assert cli.fake.calls == []


def _pty_run(root: Path, url: str, args: tuple[str, ...], answer: bytes) -> tuple[int, str]:
    """Run shipit with stdin, stdout and stderr on a pseudo-terminal; answer its first question."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "shipit", *args],
        cwd=root,
        env=_env(url),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    seen = b""
    answered = False
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError(f"no output for 60 s; so far: {seen!r}")
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"[y/N]" in seen:
            os.write(leader, answer)
            answered = True
    os.close(leader)
    return proc.wait(timeout=60), seen.decode(errors="replace").replace("\r\n", "\n")


def test_declining_on_a_terminal_exits_1_cancelled_and_changes_nothing(cli: Cli) -> None:
    args = ("services", "deploy", "--image", f"api={image('api')}", "--image", f"web={image('web')}")
    code, output = _pty_run(cli.root, cli.server.url, args, b"n\n")
    assert "Apply these changes? [y/N]: n" in output
    assert output.rstrip().splitlines()[-1] == "cancelled: nothing was changed"
    assert code == 1
    assert cli.fake.mutating_calls() == []
