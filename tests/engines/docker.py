"""A Docker engine for the tests: the one already running, or a private ``dockerd`` started here.

Nothing can be pulled from any registry on the development and CI machines, so the engine also
gets a tiny local base image, ``shipit-test/busybox:latest`` (also tagged ``busybox:latest`` so
``FROM busybox`` works offline), imported from a rootfs made of Debian's static busybox.

The private daemon lives in a fixed directory (``/tmp/shipit-test-docker``) and is shared by
test sessions that run at the same time: each session holds a shared ``flock`` on ``users.lock``
while it uses the daemon, and the last one to finish stops it. A daemon left behind by a killed
session is reused by the next one; a stale pidfile or socket is cleaned up.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import io
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from engines._proc import pid_alive, run, tail_of, terminate_pid, wait_until
from engines.requirements import EngineUnavailable

if TYPE_CHECKING:
    from python_on_whales import DockerClient

BASE_IMAGE = "shipit-test/busybox:latest"
BUSYBOX_ALIAS = "busybox:latest"
DEFAULT_SOCKET = "/var/run/docker.sock"
STATE_DIR = Path("/tmp/shipit-test-docker")

#: Flags for the private daemon. vfs works on any filesystem (no overlay in the sandbox). A bridge
#: (docker0) is kept so that ``docker run -p`` and RUN steps have a network, and user-defined
#: networks (compose) give name resolution through the embedded DNS. No iptables rules, no NAT and
#: no IP forwarding: containers reach each other and the host, and nothing beyond it.
DOCKERD_FLAGS = (
    "--storage-driver",
    "vfs",
    "--iptables=false",
    "--ip-masq=false",
    "--ip-forward=false",
    "--ip6tables=false",
    "--userland-proxy=true",
    "--log-level",
    "warn",
)

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n"


def state_dir() -> Path:
    """Fixed on purpose: there must be one private daemon per machine. A second dockerd would
    share (or, with ``--bridge=none``, delete) the host's docker0 bridge and break the first."""
    return STATE_DIR


@dataclass
class DockerEngine:
    """A Docker engine the tests can use. ``host`` is the DOCKER_HOST value."""

    host: str
    base_image: str = BASE_IMAGE
    #: True when the daemon is the private one managed by this module.
    private: bool = False
    #: Private DOCKER_CONFIG directory (``docker login`` credentials of this session).
    config_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="shipit-docker-cfg-")))
    server_version: str = ""
    _users_lock: IO[bytes] | None = field(default=None, repr=False)
    _saved_env: dict[str, str | None] = field(default_factory=dict, repr=False)
    _stopped: bool = field(default=False, repr=False)

    def env(self) -> dict[str, str]:
        """os.environ plus what the docker CLI, compose v1 and python-on-whales need."""
        env = dict(os.environ)
        env.update(self.env_overrides())
        return env

    def env_overrides(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.host, "DOCKER_CONFIG": str(self.config_dir), "DOCKER_BUILDKIT": "0"}

    def client(self) -> DockerClient:
        """A python-on-whales client for this engine (use ``legacy_build``: there is no buildx)."""
        from python_on_whales import DockerClient

        return DockerClient(host=self.host, config=self.config_dir)

    def export_env(self) -> None:
        """Point this process (and its subprocesses) at the engine."""
        for key, value in self.env_overrides().items():
            if key not in self._saved_env:
                self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value

    def stop(self) -> None:
        """Restore the environment; stop the private daemon if no other session still uses it."""
        if self._stopped:
            return
        self._stopped = True
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(self.config_dir, ignore_errors=True)
        if self.private and self._users_lock is not None:
            _release_private_daemon(self._users_lock)
            self._users_lock = None
        with contextlib.suppress(ValueError):
            atexit.unregister(self.stop)


# --------------------------------------------------------------------------------------------
# finding or starting a daemon


def docker_cli() -> str:
    cli = shutil.which("docker")
    if cli is None:
        raise EngineUnavailable("the docker CLI is not on PATH (run .ci/install.sh)")
    return cli


def answers(host: str, timeout: float = 10) -> str | None:
    """The server version if a daemon answers at ``host``, else None."""
    env = dict(os.environ, DOCKER_HOST=host)
    try:
        proc = run([docker_cli(), "version", "--format", "{{.Server.Version}}"], env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    version = proc.stdout.strip()
    return version if proc.returncode == 0 and version else None


def find_dockerd() -> str | None:
    found = shutil.which("dockerd")
    if found:
        return found
    for candidate in ("/usr/sbin/dockerd", "/usr/bin/dockerd"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_engine(*, base_image: bool = True, start_timeout: float = 90) -> DockerEngine:
    """Return a ready engine: the configured one if it answers, else a private dockerd.

    Exports DOCKER_HOST, DOCKER_CONFIG and DOCKER_BUILDKIT=0 to this process. Call ``stop()`` on
    the result when done (also registered with atexit).
    """
    docker_cli()
    engine: DockerEngine | None = None
    configured = os.environ.get("DOCKER_HOST")
    candidates = [configured] if configured else []
    if Path(DEFAULT_SOCKET).exists():
        candidates.append(f"unix://{DEFAULT_SOCKET}")
    private_host = f"unix://{state_dir() / 'docker.sock'}"
    for host in candidates:
        if host == private_host:
            continue  # the private daemon is only used under its users.lock, below
        version = answers(host)
        if version:
            engine = DockerEngine(host=host, server_version=version)
            break
    if engine is None:
        engine = _start_private_daemon(start_timeout)
    atexit.register(engine.stop)
    try:
        engine.export_env()
        if base_image:
            ensure_base_image(engine)
    except BaseException:
        engine.stop()
        raise
    return engine


@contextlib.contextmanager
def _flock(path: Path, mode: int) -> Iterator[IO[bytes]]:
    with path.open("ab") as handle:
        fcntl.flock(handle, mode)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _start_private_daemon(timeout: float) -> DockerEngine:
    dockerd = find_dockerd()
    if dockerd is None:
        raise EngineUnavailable("no Docker daemon answers and dockerd is not installed (run .ci/install.sh)")
    if os.geteuid() != 0:
        raise EngineUnavailable("no Docker daemon answers, and starting dockerd needs root")
    root = state_dir()
    root.mkdir(parents=True, exist_ok=True)
    sock = root / "docker.sock"
    pidfile = root / "docker.pid"
    log = root / "dockerd.log"
    host = f"unix://{sock}"
    with _flock(root / "start.lock", fcntl.LOCK_EX):
        users = (root / "users.lock").open("ab")
        fcntl.flock(users, fcntl.LOCK_SH)
        try:
            pid = _read_pid(pidfile)
            version = answers(host) if pid is not None and pid_alive(pid) else None
            if version is None:
                # Nothing answers: whatever is left of an earlier daemon in this directory (a hung
                # dockerd, its containerd and shims, the pidfile and socket) goes.
                _clean_stale(root)
                with log.open("ab") as out:
                    proc = subprocess.Popen(
                        [
                            dockerd,
                            "--host",
                            host,
                            "--data-root",
                            str(root / "data"),
                            "--exec-root",
                            str(root / "exec"),
                            "--pidfile",
                            str(pidfile),
                            *DOCKERD_FLAGS,
                        ],
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                found: list[str] = []

                def ready() -> bool:
                    v = answers(host, timeout=5) if sock.exists() else None
                    if v:
                        found.append(v)
                    return bool(v)

                try:
                    wait_until(
                        ready,
                        timeout=timeout,
                        what="dockerd",
                        interval=0.2,
                        alive=lambda: proc.poll() is None,
                        log=log,
                    )
                except EngineUnavailable:
                    terminate_pid(proc.pid, timeout=10)
                    raise
                version = found[-1]
        except BaseException:
            fcntl.flock(users, fcntl.LOCK_UN)
            users.close()
            raise
    return DockerEngine(host=host, private=True, server_version=version, _users_lock=users)


def _clean_stale(root: Path) -> None:
    """Stop every process that names ``root`` on its command line (dockerd, containerd, shims),
    then remove the pidfile, the socket and containerd's runtime state."""
    for pid in _processes_under(root):
        terminate_pid(pid, timeout=20)
    for name in ("docker.pid", "docker.sock"):
        with contextlib.suppress(FileNotFoundError):
            (root / name).unlink()
    shutil.rmtree(root / "exec", ignore_errors=True)


def _processes_under(root: Path) -> list[int]:
    """Pids of live processes whose command line mentions ``root``: dockerd first."""
    marker = str(root) + "/"
    found: list[tuple[int, int]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(arg.decode(errors="replace").startswith(marker) for arg in argv) and pid_alive(int(entry.name)):
            is_dockerd = bool(argv) and argv[0].endswith(b"dockerd")
            found.append((0 if is_dockerd else 1, int(entry.name)))
    return [pid for _, pid in sorted(found)]


def _release_private_daemon(users: IO[bytes]) -> None:
    root = state_dir()
    with _flock(root / "start.lock", fcntl.LOCK_EX):
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            last = False  # another test session still uses the daemon: leave it running
        else:
            last = True
        try:
            if last:
                _clean_stale(root)
        finally:
            fcntl.flock(users, fcntl.LOCK_UN)
            users.close()


def stop_private_daemon() -> None:
    """Stop a private daemon unconditionally (e.g. from a CI clean-up step)."""
    root = state_dir()
    if not root.exists():
        return
    with _flock(root / "start.lock", fcntl.LOCK_EX):
        _clean_stale(root)


# --------------------------------------------------------------------------------------------
# the local base image


def find_static_busybox() -> Path:
    for candidate in (os.environ.get("SHIPIT_TEST_BUSYBOX"), "/bin/busybox", "/usr/bin/busybox"):
        if candidate and Path(candidate).is_file() and _is_static_elf(Path(candidate)):
            return Path(candidate)
    raise EngineUnavailable("no statically linked busybox found (apt-get install busybox-static)")


def _is_static_elf(path: Path) -> bool:
    """True for an ELF64 little-endian executable without a PT_INTERP (dynamic loader) header."""
    with path.open("rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return False
        (phoff,) = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    pt_interp = 3
    return all(struct.unpack_from("<I", table, i * phentsize)[0] != pt_interp for i in range(phnum))


def busybox_rootfs_tar(busybox: Path) -> bytes:
    """A tiny rootfs: /bin/busybox plus a symlink per applet, /etc/passwd with user ``app``."""
    applets = run([str(busybox), "--list"]).stdout.split()
    buf = io.BytesIO()
    now = int(time.time())

    def add_dir(name: str, mode: int = 0o755) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, now
        tar.addfile(info)

    def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), mode, now
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in (
            "bin",
            "etc",
            "root",
            "home",
            "var",
            "var/www",
            "proc",
            "sys",
            "dev",
            "usr",
            "usr/bin",
            "usr/sbin",
            "sbin",
        ):
            add_dir(name, 0o700 if name == "root" else 0o755)
        add_dir("tmp", 0o1777)
        info = tarfile.TarInfo("home/app")
        info.type, info.mode, info.mtime, info.uid, info.gid = tarfile.DIRTYPE, 0o755, now, 1000, 1000
        tar.addfile(info)
        add_file("bin/busybox", busybox.read_bytes(), 0o755)
        for applet in applets:
            if applet == "busybox" or "/" in applet:
                continue
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname, link.mode, link.mtime = tarfile.SYMTYPE, "busybox", 0o777, now
            tar.addfile(link)
        add_file("etc/passwd", PASSWD.encode())
        add_file("etc/group", GROUP.encode())
    return buf.getvalue()


def _image_exists(engine: DockerEngine, ref: str) -> bool:
    return run([docker_cli(), "image", "inspect", "--format", "{{.Id}}", ref], env=engine.env()).returncode == 0


def ensure_base_image(engine: DockerEngine) -> str:
    """Import ``shipit-test/busybox:latest`` if missing and tag ``busybox:latest`` if missing."""
    cli = docker_cli()
    env = engine.env()
    if not _image_exists(engine, BASE_IMAGE):
        tar = busybox_rootfs_tar(find_static_busybox())
        proc = subprocess.run(
            [
                cli,
                "import",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                'CMD ["sh"]',
                "-",
                BASE_IMAGE,
            ],
            input=tar,
            capture_output=True,
            env=env,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise EngineUnavailable(f"docker import of the base image failed: {proc.stderr.decode(errors='replace')}")
    if not _image_exists(engine, BUSYBOX_ALIAS):
        proc2 = run([cli, "tag", BASE_IMAGE, BUSYBOX_ALIAS], env=env)
        if proc2.returncode != 0:
            raise EngineUnavailable(f"docker tag {BUSYBOX_ALIAS} failed: {proc2.stderr}")
    return BASE_IMAGE


# --------------------------------------------------------------------------------------------
# compose


def find_compose() -> list[str]:
    """argv prefix of a compose implementation: Debian's docker-compose v1, else ``docker compose``."""
    v1 = shutil.which("docker-compose")
    if v1:
        return [v1]
    cli = shutil.which("docker")
    if cli and run([cli, "compose", "version"]).returncode == 0:
        return [cli, "compose"]
    raise EngineUnavailable("docker-compose is not installed (run .ci/install.sh)")


def daemon_log_tail() -> str:
    return tail_of(state_dir() / "dockerd.log")
