"""MariaDB from the machine's own binaries for a `engine: mysql` database under `shipit local --runtime native`.

Cloud SQL runs MySQL; locally MariaDB speaks the same protocol and SQL for what applications do, and is
what Debian and Homebrew package (apt-get install mariadb-server, brew install mariadb). One server per
database under .shipit/native/mariadb/KEY (kept between runs, like the compose named volume), listening
on 127.0.0.1 on a free port, with its own database and an `app` user with the local password, stopped
when the run ends. It never reads the machine's my.cnf (--no-defaults) and never touches a system server.

As root the server runs as the unprivileged `mysql` user (or `nobody`), like the native Postgres; the
administrative connection that creates the database and user goes over the server's unix socket, where
MariaDB authenticates the operating-system account that installed it (unix_socket): no admin password
exists to leak.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from shipit.adapters.process import run
from shipit.config.database_engines import MYSQL
from shipit.config.models import Database
from shipit.errors import ToolError
from shipit.local import serveraccount
from shipit.local.env import LOCAL_DB_PASSWORD, DatabaseEndpoint, database_identity
from shipit.local.ports import LOOPBACK, free_port
from shipit.local.serveraccount import as_user, chown_tree, log_tail

INSTALL_HINT = "install MariaDB (apt-get install mariadb-server, brew install mariadb), or use the docker runtime"
UNPRIVILEGED_USERS = ("mysql", "nobody")
SERVERS = ("mariadbd", "mysqld")
INSTALLERS = ("mariadb-install-db", "mysql_install_db")
CLIENTS = ("mariadb", "mysql")
SEARCH = ("/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin", "/opt/homebrew/bin", "/opt/homebrew/sbin")


def unprivileged_user() -> pwd.struct_passwd | None:
    """None when not root; else the account the server runs as."""
    return serveraccount.unprivileged_user("MariaDB", UNPRIVILEGED_USERS, "should not run as root")


def data_location(state_dir: Path, key: str, user: pwd.struct_passwd | None) -> Path:
    return serveraccount.data_location(state_dir, "mariadb", key, user)


def _as_user(user: pwd.struct_passwd | None, argv: list[str]) -> list[str]:
    return as_user(user, argv, "MariaDB")


@dataclass(frozen=True)
class MariaDBInstance:
    key: str
    endpoint: DatabaseEndpoint
    datadir: Path
    log: Path
    socket: Path
    process: subprocess.Popen[bytes] = field(repr=False, compare=False)
    user: pwd.struct_passwd | None = None  # the unprivileged account when shipit runs as root

    @property
    def run_as(self) -> str | None:
        return self.user.pw_name if self.user is not None else None


def find_binary(names: tuple[str, ...], what: str) -> str:
    for name in names:
        found = shutil.which(name) or next((f"{d}/{name}" for d in SEARCH if os.access(f"{d}/{name}", os.X_OK)), None)
        if found:
            return found
    raise ToolError(f"the MariaDB {what} ({' or '.join(names)}) is not installed", hint=INSTALL_HINT)


def _socket_dir(datadir: Path) -> Path:
    # A unix socket path is limited to ~100 characters: a short directory named after the data directory.
    digest = hashlib.sha256(str(datadir.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"shipit-my-{digest}"


def _install(location: Path, datadir: Path, user: pwd.struct_passwd | None) -> None:
    owner = user.pw_name if user is not None else pwd.getpwuid(os.geteuid()).pw_name
    installer = find_binary(INSTALLERS, "installer")
    result = run(
        _as_user(
            user,
            [
                installer,
                "--no-defaults",
                f"--datadir={datadir}",
                f"--user={owner}",
                # root@localhost and OWNER@localhost authenticate by their unix account over the socket only.
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
        ),
        cwd=location,
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        raise ToolError(f"mariadb-install-db failed for {datadir}:\n{(result.stdout + result.stderr).strip()[-2000:]}")


def _stop_leftover(pidfile: Path, datadir: Path) -> None:
    """A server left running by a run that was killed: stop it so it comes back on a fresh free port."""
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if str(datadir).encode() not in cmdline:
        return
    os.kill(pid, signal.SIGTERM)
    for _ in range(600):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.1)


def _wait_listening(proc: subprocess.Popen[bytes], port: int, sock: Path, log: Path, key: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if sock.exists():
            try:
                with socket.create_connection((LOOPBACK, port), timeout=1):
                    return
            except OSError:
                pass
        time.sleep(0.1)
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=60)
    shutil.rmtree(sock.parent, ignore_errors=True)
    raise ToolError(
        f"MariaDB for database '{key}' did not start{log_tail(log)}",
        hint="fix the problem shown in the log, or delete the data directory to start afresh",
    )


def _provision_sql(name: str, db_user: str) -> str:
    # Names are validated by the config pattern ([a-z_][a-z0-9_]*); the password is the fixed local one.
    who = f"'{db_user}'@'%'"
    return (
        f"CREATE DATABASE IF NOT EXISTS `{name}`;\n"
        f"CREATE USER IF NOT EXISTS {who} IDENTIFIED BY '{LOCAL_DB_PASSWORD}';\n"
        f"ALTER USER {who} IDENTIFIED BY '{LOCAL_DB_PASSWORD}';\n"
        f"GRANT ALL PRIVILEGES ON `{name}`.* TO {who};\n"
    )


def start(key: str, db: Database, state_dir: Path) -> MariaDBInstance:
    """Initialise (first run) and start the server of one database; raise with the log tail on failure."""
    server = find_binary(SERVERS, "server")
    user = unprivileged_user()
    location = data_location(state_dir, key, user)
    location.mkdir(parents=True, exist_ok=True)
    datadir, log, pidfile = location / "data", location / "mariadb.log", location / "mariadb.pid"
    sock_dir = _socket_dir(datadir)
    sock_dir.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        os.chown(location, user.pw_uid, user.pw_gid)
        os.chown(sock_dir, user.pw_uid, user.pw_gid)
    if not (datadir / "mysql").is_dir():
        datadir.mkdir(exist_ok=True)
        if user is not None:
            chown_tree(location, user)
        _install(location, datadir, user)
    _stop_leftover(pidfile, datadir)
    sock = sock_dir / "mysqld.sock"
    sock.unlink(missing_ok=True)
    port = free_port()
    argv = [
        server,
        "--no-defaults",
        f"--datadir={datadir}",
        f"--socket={sock}",
        f"--port={port}",
        f"--bind-address={LOOPBACK}",
        f"--pid-file={pidfile}",
        f"--log-error={log}",
        "--skip-name-resolve",
        # Cloud SQL's defaults: utf8mb4 everywhere.
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
    ]
    # Its own session: the terminal's Ctrl-C reaches shipit, which then stops the server cleanly.
    proc = subprocess.Popen(
        _as_user(user, argv),
        cwd=location,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _wait_listening(proc, port, sock, log, key)
    name, db_user = database_identity(key, db)
    endpoint = DatabaseEndpoint(LOOPBACK, port, name, db_user, scheme=MYSQL.scheme)
    instance = MariaDBInstance(key, endpoint, datadir, log, sock, proc, user)
    # Over the socket as this process's own account: mariadb-install-db created it (root, or --user)
    # with unix_socket authentication. The SQL goes through stdin.
    admin = [find_binary(CLIENTS, "client"), "--no-defaults", f"--socket={sock}", "-u", _me()]
    created = run(admin, stdin=_provision_sql(name, db_user), check=False, timeout=60)
    if created.returncode != 0:
        stop(instance)
        raise ToolError(f"creating database {name} and user {db_user} failed: {created.stderr.strip()}{log_tail(log)}")
    return instance


def _me() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def stop(instance: MariaDBInstance) -> None:
    """SIGTERM is MariaDB's clean shutdown; wait for it so the next run finds the data directory unlocked."""
    proc = instance.process
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(instance.socket.parent, ignore_errors=True)
