from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from google.api_core import exceptions

from fakegcp import FakeControl, FakeGCP, FakeGCPServer
from fakegcp_tests.helpers import PARENT, PROJECT

TESTS_DIR = Path(__file__).resolve().parents[1]


def test_control_api(fake_gcp_server: FakeGCPServer) -> None:
    # The control API exists only on the HTTP front door.
    from fakegcp.fixtures import GcpEndpoint
    from fakegcp_tests.helpers import make_clients

    clients = make_clients(GcpEndpoint(fake_gcp_server.fake, "http", fake_gcp_server.url))
    control = clients.endpoint.control()
    assert control is not None
    name = control.seed_secret(PROJECT, "k", "v1")
    assert clients.secrets.access_secret_version(name=f"{name}/versions/1").payload.data == b"v1"
    control.fail("secretmanager.projects.secrets.get", status=503)
    with pytest.raises(exceptions.ServiceUnavailable):
        clients.secrets.get_secret(name=name)
    calls = control.calls("secretmanager.projects.secrets.get")
    assert [c["status"] for c in calls] == [503]
    control.fail_revisions("api", "boom")
    with pytest.raises(exceptions.GoogleAPICallError):
        clients.services.create_service(
            parent=PARENT, service_id="api", service={"template": {"containers": [{"image": "x"}]}}
        ).result()
    control.allow_revisions("api")
    repo = control.add_repository(f"{PARENT}/repositories/apps")
    control.add_docker_image(repo["name"], "api", ["v1"], "sha256:" + "c" * 64)
    assert len(list(clients.artifacts.list_docker_images(parent=repo["name"]))) == 1
    control.drop_response("secretmanager.projects.secrets.addVersion")
    with pytest.raises(requests.ConnectionError):
        clients.secrets.add_secret_version(parent=name, payload={"data": b"v2"})
    state = control.state()
    assert state["services"] == [f"{PARENT}/services/api"] and state["secrets"][name] == ["1", "2"]
    assert control.mutating_calls()
    control.reset_calls()
    assert control.calls() == []
    control.reset()
    assert control.state()["services"] == []


def test_concurrent_requests_over_http() -> None:
    fake = FakeGCP()
    fake.secrets.seed("p", "s")
    with FakeGCPServer(fake) as url:
        errors: list[BaseException] = []

        def add(i: int) -> None:
            try:
                r = requests.post(
                    f"{url}/v1/projects/p/secrets/s:addVersion",
                    json={"payload": {"data": "eA=="}},
                    timeout=10,
                )
                assert r.status_code == 200
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=add, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert sorted(int(v) for v in fake.secrets.version_states("projects/p/secrets/s")) == list(range(1, 21))


def test_python_dash_m_fakegcp() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakegcp", "--port", "0", "--latency-ms", "1"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=TESTS_DIR,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        control = FakeControl(url)
        control.seed_secret("p", "k", "v")
        r = requests.get(f"{url}/v1/projects/p/secrets/k/versions/latest:access", timeout=5)
        assert r.status_code == 200 and r.json()["payload"]["data"] == "dg=="
        assert control.calls()[-1]["method_id"] == "secretmanager.projects.secrets.versions.access"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
