"""fakegcp's Cloud Build v1 and Cloud Storage v1, through Google's own google-cloud-build client (REST) and
plain HTTP: routes and bodies as the discovery documents describe them, Cloud Build's own rules on top."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud.devtools import cloudbuild_v1

from fakegcp.fixtures import GcpEndpoint
from fakegcp_tests.helpers import PARENT

BUCKET = "acme-builds"
BASE = "https://cloudbuild.googleapis.com/v1"


def _client(gcp: GcpEndpoint) -> cloudbuild_v1.CloudBuildClient:
    return cloudbuild_v1.CloudBuildClient(
        transport="rest", credentials=AnonymousCredentials(), client_options=gcp.client_options()
    )


def _build(**extra: Any) -> dict[str, Any]:
    return {
        "source": {"storage_source": {"bucket": BUCKET, "object_": "src.tgz"}},
        "steps": [{"name": "gcr.io/cloud-builders/docker", "args": ["version"]}],
        "images": ["us-central1-docker.pkg.dev/acme-staging/apps/api:c-1"],
        "logs_bucket": f"gs://{BUCKET}/logs",
        "tags": ["shipit", "req-1"],
        **extra,
    }


def test_google_client_creates_gets_lists_and_cancels(gcp: GcpEndpoint) -> None:
    fake = gcp.fake
    fake.storage.add_bucket(BUCKET)
    fake.storage.put(BUCKET, "src.tgz", b"x")
    client = _client(gcp)
    # Regional builds: only `parent` (given project_id too, the client picks the global route, which fakegcp
    # does not serve: shipit never uses it).
    operation = client.create_build(request={"parent": PARENT, "build": _build()})
    build_id = operation.metadata.build.id
    name = f"{PARENT}/builds/{build_id}"
    fake.cloudbuild.wait()
    got = client.get_build(request={"name": name})
    assert got.status == cloudbuild_v1.Build.Status.SUCCESS
    assert [i.name for i in got.results.images] == _build()["images"]
    listed = client.list_builds(request={"parent": PARENT, "filter": 'tags="req-1"'})
    assert [b.id for b in listed] == [build_id]
    assert list(client.list_builds(request={"parent": PARENT, "filter": 'tags="nope"'})) == []
    client.cancel_build(request={"name": name})  # finished: unchanged
    assert client.get_build(request={"name": name}).status == cloudbuild_v1.Build.Status.SUCCESS
    with pytest.raises(exceptions.NotFound):
        client.get_build(request={"name": f"{PARENT}/builds/nope"})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"steps": []}, "at least one build step"),
        (
            {"service_account": "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com", "logs_bucket": ""},
            "logs_bucket",
        ),
        ({"options": {"pool": {"name": "projects/acme-staging/locations/europe-west1/workerPools/x"}}}, "region"),
        (
            {"steps": [{"name": "gcr.io/cloud-builders/docker", "secret_env": ["TOKEN"]}]},
            "not defined in availableSecrets",
        ),
    ],
)
def test_cloud_build_rules(mocked: Any, extra: dict[str, Any], message: str) -> None:
    client = _client(mocked.endpoint)
    with pytest.raises(exceptions.BadRequest) as err:
        client.create_build(request={"parent": PARENT, "build": _build(**extra)})
    assert message in str(err.value)


def test_unknown_field_and_bad_duration_are_refused(fake_gcp_mock: Any) -> None:
    url = f"{BASE}/{PARENT}/builds"
    bad = requests.post(url, json={"steps": [{"name": "x"}], "stepz": []}, timeout=5)
    assert bad.status_code == 400 and 'Unknown name "stepz"' in bad.json()["error"]["message"]
    bad = requests.post(url, json={"steps": [{"name": "x"}], "timeout": "ten minutes"}, timeout=5)
    assert bad.status_code == 400 and "duration" in bad.text
    assert fake_gcp_mock.cloudbuild.builds == {}


def test_missing_source_fails_the_build(fake_gcp_mock: Any) -> None:
    fake_gcp_mock.storage.add_bucket(BUCKET)
    answer = requests.post(
        f"{BASE}/{PARENT}/builds",
        json={"source": {"storageSource": {"bucket": BUCKET, "object": "gone.tgz"}}, "steps": [{"name": "x"}]},
        timeout=5,
    ).json()
    assert answer["metadata"]["build"]["status"] == "FAILURE"
    assert answer["metadata"]["build"]["failureInfo"]["type"] == "FETCH_SOURCE_FAILED"


def test_storage_upload_and_ranged_download(fake_gcp_mock: Any) -> None:
    fake_gcp_mock.storage.add_bucket(BUCKET)
    upload = "https://storage.googleapis.com/upload/storage/v1/b/acme-builds/o"
    made = requests.post(upload, params={"uploadType": "media", "name": "a/b.txt"}, data=b"hello world", timeout=5)
    assert made.status_code == 200 and made.json()["size"] == "11"
    again = requests.post(
        upload, params={"uploadType": "media", "name": "a/b.txt", "ifGenerationMatch": "0"}, data=b"x", timeout=5
    )
    assert again.status_code == 412
    url = "https://storage.googleapis.com/storage/v1/b/acme-builds/o/a%2Fb.txt"
    assert requests.get(url, params={"alt": "media"}, timeout=5).content == b"hello world"
    part = requests.get(url, params={"alt": "media"}, headers={"Range": "bytes=6-"}, timeout=5)
    assert part.status_code == 206 and part.content == b"world"
    assert requests.get(url, timeout=5).json()["name"] == "a/b.txt"
    bad = requests.post(upload, params={"uploadType": "media", "name": "x", "colour": "red"}, data=b"x", timeout=5)
    assert bad.status_code == 400  # not a parameter of objects.insert
