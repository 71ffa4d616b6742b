"""`shipit local --runtime native` with a cache: a real redis-server from the machine, and a service that
writes and reads a key through the REDIS_URL shipit injects (redis-py), then Ctrl-C leaving nothing behind."""

from __future__ import annotations

import shutil
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from engines.requirements import missing
from integration.local.test_local_native import Running, _processes_mentioning
from shipit.local.ports import free_port

SERVICE = """\
import os
from urllib.parse import urlsplit

import redis

client = redis.Redis.from_url(os.environ["REDIS_URL"])
key = "shipit-" + os.environ["RUN_ID"]
client.set(key, os.environ["K_SERVICE"])
print("REDIS-OK", client.get(key).decode(), repr(os.environ["REDIS_CA_CERT"]), flush=True)
url = urlsplit(os.environ["REDIS_URL"])
try:
    redis.Redis(host=url.hostname, port=url.port, password="wrong").ping()
except redis.exceptions.AuthenticationError:
    print("AUTH-REQUIRED", flush=True)
import time
while True:
    time.sleep(1)
"""


@pytest.fixture
def redis_server() -> str:
    found = shutil.which("redis-server")
    if found is None:
        missing("redis", "redis-server is not installed (apt-get install redis-server)")
    pytest.importorskip("redis")
    return found


def test_native_service_writes_and_reads_through_redis_url(tmp_path: Path, redis_server: str) -> None:
    run_id = uuid.uuid4().hex[:8]
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "app.py").write_text(SERVICE)
    (tmp_path / "shipit.yaml").write_text(
        textwrap.dedent(
            f"""
            version: 1
            app: native
            environments: {{dev: {{project: native-project, region: us-central1}}}}
            caches: {{cache: {{}}}}
            services:
              api:
                build: {{context: ./svc}}
                caches: [cache]
                health: {{path: null}}
                local:
                  command: [{sys.executable}, app.py]
                  ports: ["{free_port()}:8080"]
                  env: {{RUN_ID: {run_id}}}
            """
        )
    )
    running = Running(tmp_path)
    try:
        running.wait_for(r"cache-cache +\| ready at 127\.0\.0\.1:\d+")
        running.wait_for(r"api +\| REDIS-OK api ''")
        running.wait_for(r"api +\| AUTH-REQUIRED")
        # The password reaches redis-server through its 0600 config file and the service through its
        # environment: no process's argv holds it.
        password = (tmp_path / ".shipit" / "redis-password").read_text().strip()
        assert _processes_mentioning(password) == []
        assert running.ctrl_c() == 130
    finally:
        running.kill()
    out = running.output()
    assert password and password not in out
    deadline = time.monotonic() + 10
    while _processes_mentioning(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(tmp_path)) == []
    # The data directory is kept between runs, like the compose named volume.
    assert (tmp_path / ".shipit" / "native" / "redis" / "cache" / "redis.conf").exists()


def test_the_compose_redis_command_and_healthcheck_work_with_a_real_server(tmp_path: Path, redis_server: str) -> None:
    """The container's shell line (config written from $REDIS_PASSWORD, then exec) and its health check,
    run here with the machine's redis-server and redis-cli in place of the redis:7 image's."""
    import os
    import subprocess

    import redis

    from shipit.local.redis import compose_service

    service = compose_service("cache", "redis:7")
    port = free_port()
    # Compose turns $$ into $; the image's /data and /tmp become directories of this test.
    script = service["command"][2].replace("$$", "$").replace("/tmp/redis.conf", f"{tmp_path}/redis.conf")
    script = script.replace("dir /data", f"dir {tmp_path}")
    script += f" --port {port} --bind 127.0.0.1"
    env = {**os.environ, "REDIS_PASSWORD": "pw-" + uuid.uuid4().hex}
    server = subprocess.Popen(["sh", "-c", script], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, password=env["REDIS_PASSWORD"])
        deadline = time.monotonic() + 30
        while True:
            try:
                assert client.ping()
                break
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        health = service["healthcheck"]["test"][1].replace("$$", "$").replace("redis-cli", f"redis-cli -p {port}")
        ok = subprocess.run(["sh", "-c", health], env=env, capture_output=True, text=True)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        wrong = subprocess.run(["sh", "-c", health], env={**env, "REDIS_PASSWORD": "wrong"}, capture_output=True)
        assert wrong.returncode != 0
        assert _processes_mentioning(env["REDIS_PASSWORD"]) == []  # not in any argv
        assert oct((tmp_path / "redis.conf").stat().st_mode & 0o777) == "0o600"
    finally:
        server.terminate()
        server.wait(timeout=30)
