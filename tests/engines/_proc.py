"""Small process helpers shared by the engines: free ports, waiting, owned child processes."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from engines.requirements import EngineUnavailable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    alive: Callable[[], bool] | None = None,
    log: Path | None = None,
) -> None:
    """Poll ``check`` until it is true; raise EngineUnavailable on timeout or early death."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if alive is not None and not alive():
            raise EngineUnavailable(f"{what}: process exited before it was ready{tail_of(log)}")
        if time.monotonic() > deadline:
            raise EngineUnavailable(f"{what}: not ready after {timeout:.0f}s{tail_of(log)}")
        time.sleep(interval)


def tail_of(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return "\n--- " + str(log) + " (tail) ---\n" + "\n".join(text)


def pid_alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def terminate_pid(pid: int, *, timeout: float = 15.0, group: bool = False) -> None:
    """SIGTERM ``pid`` (or its process group), then SIGKILL after ``timeout``."""
    send: Callable[[int, int], None] = os.killpg if group else os.kill
    with contextlib.suppress(ProcessLookupError, PermissionError):
        send(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            send(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)


class Daemon:
    """A long-running child process in its own session (process group), logged to a file.

    ``stop()`` terminates the whole group; it is registered with atexit so an interrupted test
    run does not leave it behind.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        if workdir is not None:
            record_daemon_pid(workdir, self.proc.pid)
        atexit.register(self.stop)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.returncode is None:
            terminate_pid(self.proc.pid, timeout=timeout, group=True)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=1)
        # Reap anything else left in the group (e.g. the JVM under gcloud).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        atexit.unregister(self.stop)


def run(
    argv: Sequence[str],
    *,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    input: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a short command, capturing text output (never through a shell)."""
    return subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        input=input,
        cwd=cwd,
        check=False,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------------------------
# per-session working directories, and clean-up of those whose session was killed

OWNER_FILE = "owner.pid"
PIDS_FILE = "daemon.pids"


def session_workdir(prefix: str) -> Path:
    """A new temp dir ``<tmp>/<prefix>XXXX`` owned by this process; stale siblings are reaped."""
    reap_stale(prefix)
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    (workdir / OWNER_FILE).write_text(str(os.getpid()))
    return workdir


def record_daemon_pid(workdir: Path, pid: int) -> None:
    with (workdir / PIDS_FILE).open("a") as f:
        f.write(f"{pid}\n")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def reap_stale(prefix: str) -> None:
    """Stop daemons left in ``<tmp>/<prefix>*`` by sessions that died (owner pid gone).

    A recorded pid is only killed when its command line still mentions that directory, so a
    recycled pid is never touched.
    """
    for workdir in Path(tempfile.gettempdir()).glob(prefix + "*"):
        try:
            owner = int((workdir / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if pid_alive(owner):
            continue
        pids: list[int] = []
        with contextlib.suppress(OSError, ValueError):
            pids += [int(x) for x in (workdir / PIDS_FILE).read_text().split()]
        for postmaster in workdir.glob("*/postmaster.pid"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                pids.append(int(postmaster.read_text().splitlines()[0]))
        for pid in pids:
            if pid_alive(pid) and str(workdir) in _cmdline(pid):
                terminate_pid(pid, timeout=10)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        shutil.rmtree(workdir, ignore_errors=True)


def retire(daemon: Daemon | None, workdir: Path, stop_hook: Callable[[], None]) -> None:
    """Stop an engine's daemon, remove its working directory and the exit hook that would do the same."""
    if daemon is not None:
        daemon.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    with contextlib.suppress(ValueError):
        atexit.unregister(stop_hook)
