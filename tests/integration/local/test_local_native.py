"""`shipit local --runtime native` as a subprocess: real Postgres from the local binaries, the real Pub/Sub
emulator, service processes that use DATABASE_URL, and Ctrl-C (SIGINT to the terminal's process group)
leaving no process behind."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipit.local.ports import free_port
from shipit.local.postgres import data_location, unprivileged_user

SERVICE = """\
import http.server, json, os, sys
import psycopg

marker = os.environ["K_SERVICE"] + "-" + os.environ["RUN_ID"]
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    conn.execute("select pg_advisory_xact_lock(42)")
    conn.execute("create table if not exists notes (body text)")
    conn.execute("insert into notes values (%s)", (marker,))
    [row] = conn.execute("select body from notes where body = %s", (marker,)).fetchall()
print("ROW-OK", row[0], flush=True)

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        print("PUSH", self.path, body["subscription"], body["message"]["data"], flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


def _project(root: Path, pubsub: bool) -> str:
    run_id = uuid.uuid4().hex[:8]
    (root / "svc").mkdir()
    (root / "svc" / "app.py").write_text(SERVICE)
    pubsub_yaml = textwrap.dedent(
        """
        pubsub:
          topics: {jobs: {}}
          subscriptions:
            jobs-worker: {topic: jobs, push: {service: worker, path: /pubsub/push}}
        """
    )
    (root / "shipit.yaml").write_text(
        textwrap.dedent(
            f"""
            version: 1
            app: native
            environments: {{dev: {{project: native-project, region: us-central1}}}}
            databases: {{main: {{}}}}
            services:
              api:
                build: {{context: ./svc}}
                databases: [main]
                secrets: [API_TOKEN]
                local:
                  command: [{sys.executable}, app.py]
                  ports: ["{free_port()}:8080"]
                  env: {{RUN_ID: {run_id}}}
              worker:
                build: {{context: ./svc}}
                databases: [main]
                local:
                  command: [{sys.executable}, app.py]
                  ports: ["{free_port()}:8080"]
                  env: {{RUN_ID: {run_id}}}
            """
        )
        + (pubsub_yaml if pubsub else "")
    )
    (root / ".env").write_text("API_TOKEN=native-secret-value\n")
    return run_id


class Running:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.log = root / "shipit.out"
        with self.log.open("w") as out:
            # A session of its own, like a terminal's foreground job: Ctrl-C is SIGINT to the whole group.
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shipit", "local", "--runtime", "native", "up"],
                cwd=root,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "NO_COLOR": "1"},
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output())
            if match:
                return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in the output:\n{self.output()}")

    def ctrl_c(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout=60)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _processes_mentioning(*needles: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(needle in cmdline for needle in needles):
            found.append(f"{entry.name}: {cmdline}")
    return found


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    location = data_location(tmp_path / ".shipit", "main", unprivileged_user())
    if not str(location).startswith(str(tmp_path)):
        shutil.rmtree(location.parent, ignore_errors=True)


@pytest.mark.postgres
def test_native_services_use_postgres_and_ctrl_c_leaves_nothing_behind(project: Path) -> None:
    run_id = _project(project, pubsub=False)
    running = Running(project)
    try:
        running.wait_for(rf"api +\| ROW-OK api-{run_id}")
        running.wait_for(rf"worker +\| ROW-OK worker-{run_id}")
        assert running.ctrl_c() == 130
    finally:
        running.kill()
    out = running.output()
    assert "stopped" in out
    datadir = str(data_location(project / ".shipit", "main", unprivileged_user()))
    deadline = time.monotonic() + 10
    while _processes_mentioning(str(project), datadir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(project), datadir) == []
    assert "native-secret-value" not in out


@pytest.mark.postgres
@pytest.mark.pubsub
def test_native_pubsub_push_reaches_the_worker(project: Path) -> None:
    import base64

    import requests

    run_id = _project(project, pubsub=True)
    running = Running(project)
    try:
        host = running.wait_for(r"emulator ready at (127\.0\.0\.1:\d+)").group(1)
        running.wait_for(rf"worker +\| ROW-OK worker-{run_id}")
        data = base64.b64encode(f"job-{run_id}".encode()).decode()
        response = requests.post(
            f"http://{host}/v1/projects/native-project/topics/jobs:publish",
            json={"messages": [{"data": data}]},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        running.wait_for(rf"worker +\| PUSH /pubsub/push projects/native-project/subscriptions/jobs-worker {data}")
        assert running.ctrl_c() == 130
    finally:
        running.kill()
    assert _processes_mentioning(str(project)) == []


@pytest.mark.postgres
def test_postgres_that_cannot_start_reports_its_log_tail(project: Path) -> None:
    from shipit.config.models import Database
    from shipit.errors import ToolError
    from shipit.local import postgres

    instance = postgres.start("main", Database(), project / ".shipit")  # initialises the cluster
    postgres.stop(instance)
    with (instance.datadir / "postgresql.conf").open("a") as conf:
        conf.write("shared_buffers = 'not-a-size'\n")
    with pytest.raises(ToolError) as err:
        postgres.start("main", Database(), project / ".shipit")
    message = err.value.render()
    assert "PostgreSQL for database 'main' failed to start" in message
    assert "shared_buffers" in message  # the log tail says why
