"""Postgres from the machine's own binaries for `shipit local --runtime native`: one cluster per database
under .shipit/native/postgres/KEY (kept between runs, like the compose named volume), listening on
127.0.0.1 on a free port, stopped when the run ends.

PostgreSQL refuses to run as root. As root the cluster is created and run as the unprivileged
`postgres` user (or `nobody`) through runuser; if that user cannot reach the project directory (e.g.
it is under /root) the data goes to a private directory under the system temp dir instead, and shipit
says so.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

from shipit.adapters.process import run
from shipit.config.models import Database
from shipit.errors import ToolError
from shipit.local import serveraccount
from shipit.local.env import LOCAL_DB_PASSWORD, DatabaseEndpoint, database_identity
from shipit.local.ports import LOOPBACK, free_port
from shipit.local.serveraccount import as_user, chown_tree, log_tail

SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
INSTALL_HINT = "install PostgreSQL (apt-get install postgresql, brew install postgresql), or use the docker runtime"
UNPRIVILEGED_USERS = ("postgres", "nobody")


def unprivileged_user() -> pwd.struct_passwd | None:
    """None when not root; else the account the server runs as."""
    return serveraccount.unprivileged_user("PostgreSQL", UNPRIVILEGED_USERS, "refuses to run as root")


def data_location(state_dir: Path, key: str, user: pwd.struct_passwd | None) -> Path:
    return serveraccount.data_location(state_dir, "postgres", key, user)


def _as_user(user: pwd.struct_passwd | None, argv: list[str]) -> list[str]:
    return as_user(user, argv, "PostgreSQL")


@dataclass(frozen=True)
class PostgresInstance:
    key: str
    endpoint: DatabaseEndpoint
    datadir: Path
    log: Path
    bindir: Path
    user: pwd.struct_passwd | None  # the unprivileged account when shipit runs as root

    @property
    def run_as(self) -> str | None:
        return self.user.pw_name if self.user is not None else None


def find_bindir() -> Path:
    """The directory that holds initdb, pg_ctl and postgres (PATH first, then the usual install places)."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/local/opt/postgresql*/bin", "/opt/homebrew/opt/postgresql*/bin"):
        candidates += [Path(p) for p in sorted(glob.glob(pattern), reverse=True)]
    for candidate in candidates:
        if all((candidate / binary).is_file() for binary in SERVER_BINARIES):
            return candidate
    raise ToolError("the PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed", hint=INSTALL_HINT)


def _initdb(bindir: Path, location: Path, datadir: Path, db_user: str, user: pwd.struct_passwd | None) -> None:
    pwfile = location / "pwfile"
    pwfile.write_text(LOCAL_DB_PASSWORD + "\n")
    pwfile.chmod(0o600)
    if user is not None:
        chown_tree(location, user)
    try:
        result = run(
            _as_user(
                user,
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(datadir),
                    "-U",
                    db_user,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                ],
            ),
            cwd=location,
            check=False,
            timeout=300,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        raise ToolError(f"initdb failed for {datadir}:\n{(result.stdout + result.stderr).strip()[-2000:]}")
    with (datadir / "postgresql.conf").open("a") as conf:
        # TCP on loopback only; no unix socket, whose path would be limited to ~100 characters.
        conf.write("\n# shipit local\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n")


def start(key: str, db: Database, state_dir: Path) -> PostgresInstance:
    """Initialise (first run) and start the cluster of one database; raise with the log tail on failure."""
    bindir = find_bindir()
    user = unprivileged_user()
    location = data_location(state_dir, key, user)
    location.mkdir(parents=True, exist_ok=True)
    if user is not None:
        os.chown(location, user.pw_uid, user.pw_gid)
    datadir, log = location / "data", location / "postgres.log"
    name, db_user = database_identity(key, db)
    if not (datadir / "PG_VERSION").exists():
        _initdb(bindir, location, datadir, db_user, user)
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(datadir)]
    # A cluster left running by a run that was killed: stop it so it comes back on a fresh free port.
    if run(_as_user(user, [*pg_ctl, "status"]), cwd=location, check=False, timeout=30).returncode == 0:
        run(_as_user(user, [*pg_ctl, "-m", "fast", "-w", "stop"]), cwd=location, check=False, timeout=60)
    port = free_port()
    started = run(
        _as_user(user, [*pg_ctl, "-l", str(log), "-w", "-t", "60", "-o", f"-p {port}", "start"]),
        cwd=location,
        check=False,
        timeout=120,
    )
    instance = PostgresInstance(key, DatabaseEndpoint(LOOPBACK, port, name, db_user), datadir, log, bindir, user)
    if started.returncode != 0:
        raise ToolError(
            f"PostgreSQL for database '{key}' failed to start ({datadir}){log_tail(log)}",
            hint="fix the problem shown in the log, or delete the data directory to start afresh",
        )
    createdb = str(bindir / "createdb") if (bindir / "createdb").is_file() else "createdb"
    created = run(
        [createdb, "-h", LOOPBACK, "-p", str(port), "-U", db_user, name],
        env={"PGPASSWORD": LOCAL_DB_PASSWORD},
        check=False,
        timeout=60,
    )
    if created.returncode != 0 and "already exists" not in created.stderr:
        stop(instance)
        raise ToolError(f"createdb {name} failed: {created.stderr.strip()}{log_tail(log)}")
    return instance


def stop(instance: PostgresInstance) -> None:
    run(
        _as_user(
            instance.user, [str(instance.bindir / "pg_ctl"), "-D", str(instance.datadir), "-m", "fast", "-w", "stop"]
        ),
        cwd=instance.datadir.parent,
        check=False,
        timeout=60,
    )
