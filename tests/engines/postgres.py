"""A throwaway PostgreSQL cluster on 127.0.0.1:free-port, in a temporary directory.

PostgreSQL refuses to run as root: as root the cluster is created and run as the ``postgres``
system user (from postgresql-common) through ``runuser``; otherwise as the current user.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from engines._proc import free_port, port_open, run, session_workdir, tail_of, wait_until
from engines.requirements import EngineUnavailable

SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str
    datadir: Path
    bindir: Path
    run_as: str | None = field(default=None, repr=False)
    _running: bool = field(default=False, repr=False)

    @property
    def dsn(self) -> str:
        """libpq URI, e.g. ``postgresql://shipit:PW@127.0.0.1:5433/shipit``."""
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def env(self) -> dict[str, str]:
        """Environment for psql & co.: PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE."""
        return {
            **os.environ,
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.database,
        }

    def stop(self) -> None:
        if self._running:
            self._running = False
            pg_ctl = [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop"]
            run(_as_user(self.run_as, pg_ctl), timeout=60)
        shutil.rmtree(self.datadir.parent, ignore_errors=True)
        with contextlib.suppress(ValueError):
            atexit.unregister(self.stop)


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres (PATH or /usr/lib/postgresql/*/bin)."""
    on_path = shutil.which("initdb")
    candidates: list[Path] = []
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for cand in candidates:
        if all((cand / b).is_file() for b in SERVER_BINARIES):
            return cand
    raise EngineUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found (apt-get install postgresql)"
    )


def _as_user(user: str | None, argv: list[str]) -> list[str]:
    if user is None:
        return argv
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", user, "--", *argv]


def start_postgres(*, timeout: float = 60) -> PostgresServer:
    """initdb + pg_ctl start; call ``stop()`` on the result (also registered with atexit)."""
    bindir = find_bindir()
    run_as: str | None = None
    if os.geteuid() == 0:
        run_as = os.environ.get("SHIPIT_TEST_PG_USER", "postgres")
        try:
            pw = pwd.getpwnam(run_as)
        except KeyError as err:
            raise EngineUnavailable(f"running as root and there is no '{run_as}' user to run postgres") from err
    base = session_workdir("shipit-test-pg-")
    datadir = base / "data"
    password = secrets.token_urlsafe(18)
    server = PostgresServer(
        host="127.0.0.1",
        port=free_port(),
        user="shipit",
        password=password,
        database="shipit",
        datadir=datadir,
        bindir=bindir,
        run_as=run_as,
    )
    atexit.register(server.stop)
    try:
        pwfile = base / "pwfile"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        if run_as is not None:
            os.chown(base, pw.pw_uid, pw.pw_gid)
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        init = run(
            _as_user(
                run_as,
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(datadir),
                    "-U",
                    server.user,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ],
            ),
            timeout=120,
        )
        if init.returncode != 0:
            raise EngineUnavailable(f"initdb failed: {init.stdout}{init.stderr}")
        pwfile.unlink()
        with (datadir / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# shipit tests\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {server.port}\n"
                f"unix_socket_directories = '{base}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 50\nshared_buffers = 32MB\n"
            )
        log = base / "postgres.log"
        start = run(
            _as_user(
                run_as,
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(datadir),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    str(int(timeout)),
                    "start",
                ],
            ),
            timeout=timeout + 30,
        )
        if start.returncode != 0:
            raise EngineUnavailable(f"pg_ctl start failed: {start.stdout}{start.stderr}{tail_of(log)}")
        server._running = True
        wait_until(lambda: port_open(server.host, server.port), timeout=timeout, what="postgres", log=log)
        db = run(
            _as_user(
                run_as,
                [
                    str(bindir / "createdb"),
                    "-h",
                    str(base),
                    "-p",
                    str(server.port),
                    "-U",
                    server.user,
                    server.database,
                ],
            ),
            timeout=60,
        )
        if db.returncode != 0:
            raise EngineUnavailable(f"createdb failed: {db.stderr}")
    except BaseException:
        server.stop()
        raise
    return server
