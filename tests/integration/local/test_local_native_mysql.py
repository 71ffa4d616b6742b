"""`shipit local --runtime native` with an `engine: mysql` database: a real MariaDB from the machine's binaries,
services that write and read a row through the injected DATABASE_URL (mysql://, PyMySQL), and Ctrl-C leaving
no server behind."""

from __future__ import annotations

import shutil
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_local_native import Running, _processes_mentioning

from shipit.local.mariadb import data_location, unprivileged_user

pytestmark = pytest.mark.mariadb

SERVICE = """\
import os, time
from urllib.parse import unquote, urlsplit
import pymysql

url = urlsplit(os.environ["SHOP_URL"])
assert url.scheme == "mysql", url.scheme
conn = pymysql.connect(
    host=url.hostname, port=url.port, user=unquote(url.username), password=unquote(url.password),
    database=url.path.lstrip("/"), autocommit=True,
)
marker = os.environ["K_SERVICE"] + "-" + os.environ["RUN_ID"]
with conn.cursor() as cur:
    cur.execute("create table if not exists notes (body varchar(100))")
    cur.execute("insert into notes values (%s)", (marker,))
    cur.execute("select count(*) from notes where body = %s", (marker,))
    [(count,)] = cur.fetchall()
    cur.execute("select version()")
    [(version,)] = cur.fetchall()
print("ROW-OK", marker, count, "MariaDB" in version, flush=True)
while True:
    time.sleep(1)
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    location = data_location(tmp_path / ".shipit", "shop", unprivileged_user())
    if not str(location).startswith(str(tmp_path)):
        shutil.rmtree(location.parent, ignore_errors=True)


def _project(root: Path) -> str:
    run_id = uuid.uuid4().hex[:8]
    (root / "svc").mkdir()
    (root / "svc" / "app.py").write_text(SERVICE)
    (root / "shipit.yaml").write_text(
        textwrap.dedent(
            f"""
            version: 1
            app: native
            environments: {{dev: {{project: native-project, region: us-central1}}}}
            databases: {{shop: {{engine: mysql, env_var: SHOP_URL}}}}
            services:
              api:
                kind: worker
                build: {{context: ./svc}}
                databases: [shop]
                local:
                  command: [{sys.executable}, app.py]
                  env: {{RUN_ID: {run_id}}}
              other:
                kind: worker
                build: {{context: ./svc}}
                databases: [shop]
                local:
                  command: [{sys.executable}, app.py]
                  env: {{RUN_ID: {run_id}}}
            """
        )
    )
    (root / ".env").write_text("")
    return run_id


def test_native_services_write_and_read_mysql_through_database_url(project: Path) -> None:
    run_id = _project(project)
    running = Running(project)
    try:
        running.wait_for(r"mariadb 'shop' ready on 127\.0\.0\.1:\d+")
        running.wait_for(rf"api +\| ROW-OK api-{run_id} 1 True")
        running.wait_for(rf"other +\| ROW-OK other-{run_id} 1 True")
        assert running.ctrl_c() == 130
    finally:
        running.kill()
    assert "stopped" in running.output()
    datadir = str(data_location(project / ".shipit", "shop", unprivileged_user()))
    deadline = time.monotonic() + 10
    while _processes_mentioning(str(project), datadir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(project), datadir) == []

    # The data outlives the run, like the compose volume: a second run finds the first run's row next to its own.
    running = Running(project)
    try:
        running.wait_for(rf"api +\| ROW-OK api-{run_id} 2 True")
        assert running.ctrl_c() == 130
    finally:
        running.kill()


def test_mariadb_that_cannot_start_reports_its_log_tail(project: Path) -> None:
    from shipit.config.models import Database
    from shipit.errors import ToolError
    from shipit.local import mariadb

    db = Database(engine="mysql")
    mariadb.stop(mariadb.start("shop", db, project / ".shipit"))  # initialises the data directory
    location = data_location(project / ".shipit", "shop", unprivileged_user())
    (location / "data" / "ibdata1").write_bytes(b"not an innodb file")
    with pytest.raises(ToolError) as err:
        mariadb.start("shop", db, project / ".shipit")
    message = err.value.render()
    assert "MariaDB for database 'shop' did not start" in message
    assert "mariadb.log" in message  # the log tail follows
