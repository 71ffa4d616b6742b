"""The hostile corpus through the real CLI, one subprocess per case (see README.md).

Each case must: exit 2; print a located message (file:line, or the option's name); use at most 2 s of CPU and
run under a 200 MB address-space limit; open no connection to Google (every endpoint, the metadata server and
the HTTP(S) proxy point at a listener that counts connections) nor to Docker (DOCKER_HOST is a socket that
counts connections); write nothing outside the project (a sibling directory and HOME are snapshotted); never
echo a canary value nor a line of /etc/passwd.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from hostile.cases import BASE_FILES, CANARY, OUTSIDE, PROJECT, Case, Dir, Fifo, FileSpec, Link, all_cases, config

CASES = all_cases()
SRC = Path(__file__).resolve().parents[2] / "src"
CPU_SECONDS = 2.0
MEMORY_BYTES = 200 * 1024 * 1024


class _Counter:
    """A listening socket that accepts and counts connections (any connection is a failure)."""

    def __init__(self, family: int, address: str | tuple[str, int]) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(64)
        self.count = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.count += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    cpu: float
    remote_calls: int
    docker_calls: int
    written_outside: list[str]


def _snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for path in sorted(directory.rglob("*")):
        try:
            st = path.lstat()
        except OSError:
            continue
        found[str(path.relative_to(directory))] = (st.st_size, st.st_mtime_ns)
    return found


def _write(project: Path, outside: Path, name: str, spec: FileSpec) -> None:
    path = project / name
    if path.is_symlink() or path.is_file():
        path.unlink()
    if spec is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(spec, Fifo):
        os.mkfifo(path)
    elif isinstance(spec, Dir):
        path.mkdir()
    elif isinstance(spec, Link):
        path.symlink_to(spec.target.format(outside=outside, project=project))
    elif isinstance(spec, bytes):
        path.write_bytes(spec)
    else:
        path.write_text(spec)


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    # A hard stop well past the asserted limit, so a runaway case fails instead of hanging the suite.
    resource.setrlimit(resource.RLIMIT_CPU, (10, 10))


def _run(case: Case, base: Path, remote: _Counter, remote_port: int, docker: _Counter, docker_sock: Path) -> Outcome:
    root = Path(tempfile.mkdtemp(prefix=f"{case.id[:40]}-", dir=base))
    project, outside, home = root / PROJECT, root / OUTSIDE, root / "home"
    for directory in (project, outside, home):
        directory.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0 outside the project\n")
    files: dict[str, FileSpec] = {"shipit.yaml": config(), **BASE_FILES, **case.files}
    for name, spec in files.items():
        _write(project, outside, name, spec)
    before_outside, before_root = _snapshot(outside), sorted(os.listdir(root))
    endpoint = f"http://127.0.0.1:{remote_port}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(SRC),
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / "state"),
        "NO_COLOR": "1",
        "DOCKER_HOST": f"unix://{docker_sock}",
        "GOOGLE_APPLICATION_CREDENTIALS": str(home / "no-credentials.json"),
        "GCE_METADATA_HOST": f"127.0.0.1:{remote_port}",
        "GCE_METADATA_IP": f"127.0.0.1:{remote_port}",
        "HTTP_PROXY": endpoint,
        "HTTPS_PROXY": endpoint,
        "http_proxy": endpoint,
        "https_proxy": endpoint,
        "SHIPIT_REGISTRY_HOST": f"127.0.0.1:{remote_port}",
        "SHIPIT_TERRAFORM": str(home / "no-terraform"),
        **{
            f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api}": endpoint + "/"
            for api in ("RUN", "SECRETMANAGER", "ARTIFACTREGISTRY", "STORAGE", "CLOUDRESOURCEMANAGER", "PUBSUB")
        },
    }
    with remote.lock, docker.lock:
        remote_before, docker_before = remote.count, docker.count
    proc = subprocess.Popen(
        [sys.executable, "-m", "shipit", *case.argv],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_limits,
    )
    out: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda n=n, s=s: out.__setitem__(n, s.read()))  # type: ignore[misc]
        for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    # Connections are counted per case; cases run in parallel, so a delta is an upper bound shared by
    # neighbours: any connection at all fails the case (and, on a rerun alone, pins the culprit).
    with remote.lock, docker.lock:
        remote_calls, docker_calls = remote.count - remote_before, docker.count - docker_before
    written = sorted(
        {f"{OUTSIDE}/{k}" for k, v in _snapshot(outside).items() if before_outside.get(k) != v}
        | {f"{OUTSIDE}/{k} (removed)" for k in before_outside if not (outside / k).exists()}
        | {f"home/{p.relative_to(home)}" for p in home.rglob("*")}
        | (set(os.listdir(root)) - set(before_root))
    )
    shutil.rmtree(root, ignore_errors=True)
    return Outcome(
        returncode=proc.returncode,
        stdout=out["stdout"].decode("utf-8", "replace"),
        stderr=out["stderr"].decode("utf-8", "replace"),
        cpu=usage.ru_utime + usage.ru_stime,
        remote_calls=remote_calls,
        docker_calls=docker_calls,
        written_outside=written,
    )


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Runs the selected cases on a pool of workers once, then each test checks its own case."""
    selected = {
        item.callspec.params["case"].id
        for item in request.session.items
        if item.fspath == request.node.fspath and hasattr(item, "callspec") and "case" in item.callspec.params
    }
    base = tmp_path_factory.mktemp("hostile")
    docker_sock = base / "docker.sock"
    remote = _Counter(socket.AF_INET, ("127.0.0.1", 0))
    docker = _Counter(socket.AF_UNIX, str(docker_sock))
    port = remote.sock.getsockname()[1]
    todo = [c for c in CASES if c.id in selected]
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = dict(
            zip(
                (c.id for c in todo),
                pool.map(lambda c: _run(c, base, remote, port, docker, docker_sock), todo),
                strict=True,
            )
        )
    remote.close()
    docker.close()
    yield results


def test_the_corpus_is_big_and_covers_every_category() -> None:
    assert len(CASES) >= 300
    categories = {c.category for c in CASES}
    readme = (Path(__file__).parent / "README.md").read_text()
    for category in categories:
        assert f"`{category}`" in readme, f"{category} is not described in tests/hostile/README.md"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case: Case, outcomes: dict[str, Outcome]) -> None:
    result = outcomes[case.id]
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert "Traceback" not in output and "bug in shipit" not in output, output[-3000:]
    import re

    assert re.search(case.where, output), f"no location matching {case.where!r} in:\n{output[-3000:]}"
    assert result.cpu <= CPU_SECONDS, f"{result.cpu:.2f}s of CPU"
    assert result.remote_calls == 0, "a connection to the Google endpoints, metadata server or proxy"
    assert result.docker_calls == 0, "a connection to the Docker engine"
    assert result.written_outside == [], result.written_outside
    for text in case.never:
        assert text not in output, f"{text!r} echoed"
    assert len(output) < 20_000, f"{len(output)} characters of output"
    assert CANARY not in output
