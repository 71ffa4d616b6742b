from __future__ import annotations

import pytest
import requests

from fakegcp import FakeGCP
from fakegcp.server import FakeGCPServer

SM = "https://secretmanager.googleapis.com/v1/projects/p/secrets"
RUN = "https://run.googleapis.com/v2/projects/p/locations/us-central1/services"


def test_unknown_field_is_400_like_google(fake_gcp_mock: FakeGCP) -> None:
    r = requests.post(f"{SM}?secretId=x", json={"replication": {"automatic": {}}, "foo": 1}, timeout=5)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["status"] == "INVALID_ARGUMENT"
    assert err["message"] == "Invalid JSON payload received. Unknown name \"foo\" at 'secret': Cannot find field."
    nested = requests.post(f"{SM}?secretId=x", json={"replication": {"automatik": {}}}, timeout=5)
    assert "at 'secret.replication'" in nested.json()["error"]["message"]
    assert not fake_gcp_mock.secrets.secrets  # nothing was applied


@pytest.mark.parametrize(
    "body",
    [
        {"template": {"maxInstanceRequestConcurrency": "lots"}},
        {"template": {"containers": "nginx"}},
        {"traffic": [{"type": "SOMETIMES"}]},
        {"traffic": [{"type": 99}]},
        {"template": {"timeout": "5 minutes"}},
        {"template": {"sessionAffinity": "yes"}},
    ],
)
def test_wrong_types_are_400(fake_gcp_mock: FakeGCP, body: dict[str, object]) -> None:
    r = requests.post(f"{RUN}?serviceId=api", json=body, timeout=5)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"].startswith("Invalid value at 'service.")


def test_enums_accepted_as_names_and_numbers(fake_gcp_mock: FakeGCP) -> None:
    tmpl = {"containers": [{"image": "x"}]}
    a = requests.post(f"{RUN}?serviceId=a", json={"template": tmpl, "launchStage": 4, "ingress": 1}, timeout=5)
    b = requests.post(f"{RUN}?serviceId=b", json={"template": tmpl, "launchStage": "GA"}, timeout=5)
    assert a.status_code == b.status_code == 200
    svc = fake_gcp_mock.run.services["projects/p/locations/us-central1/services/a"]
    assert svc["launchStage"] == "GA" and svc["ingress"] == "INGRESS_TRAFFIC_ALL"


def test_unknown_query_parameter_is_400(fake_gcp_mock: FakeGCP) -> None:
    r = requests.get(f"{SM}?bogus=1", timeout=5)
    assert r.status_code == 400 and "Cannot bind query parameter" in r.json()["error"]["message"]


def test_wrong_path_or_verb_is_404(fake_gcp_mock: FakeGCP) -> None:
    for method, url in [
        ("GET", "https://run.googleapis.com/v2/projects/p/services"),
        ("GET", "https://secretmanager.googleapis.com/v1beta/projects/p/secrets"),
        ("PUT", SM),
    ]:
        r = requests.request(method, url, timeout=5)
        assert r.status_code == 404 and "was not found on this server" in r.text
    assert fake_gcp_mock.calls[-1].method_id is None and fake_gcp_mock.calls[-1].status == 404


def test_invalid_json_is_400(fake_gcp_mock: FakeGCP) -> None:
    r = requests.post(f"{SM}?secretId=x", data=b"{nope", timeout=5)
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_extra_host_through_responses() -> None:
    fake = FakeGCP()
    with fake.mock("http://fake.local"):
        r = requests.get("http://fake.local/v1/projects/p/secrets", timeout=5)
        assert r.status_code == 200
        with pytest.raises(requests.ConnectionError):  # nothing else passes through
            requests.get("http://elsewhere.invalid/", timeout=5)


def test_same_validation_over_http() -> None:
    with FakeGCPServer() as url:
        r = requests.post(f"{url}/v1/projects/p/secrets?secretId=x", json={"foo": 1}, timeout=5)
        assert r.status_code == 400 and 'Unknown name "foo"' in r.json()["error"]["message"]
        assert requests.get(f"{url}/nope", timeout=5).status_code == 404
