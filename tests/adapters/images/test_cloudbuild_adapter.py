"""The Cloud Build adapter (REST) against fakegcp's Cloud Build and Cloud Storage, intercepted in-process:
content-addressed uploads, log reads from an offset, create/get/cancel, and translated HTTP errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from fakegcp import FakeGCP
from fakegcp.fixtures import fake_gcp, fake_gcp_mock
from shipit.adapters.gcp.cloudbuild import CloudBuilds
from shipit.errors import RemoteError

__all__ = ["fake_gcp", "fake_gcp_mock"]

PROJECT, REGION, BUCKET = "acme-prod", "us-central1", "acme-prod-shipit-builds"
CREATE = "cloudbuild.projects.locations.builds.create"


def _body(**extra: object) -> dict[str, object]:
    return {
        "source": {"storageSource": {"bucket": BUCKET, "object": "source/api/c-1.tgz"}},
        "steps": [{"id": "build", "name": "gcr.io/cloud-builders/docker", "args": ["version"]}],
        "images": [f"{REGION}-docker.pkg.dev/{PROJECT}/apps/api:c-1"],
        "serviceAccount": f"projects/{PROJECT}/serviceAccounts/shipit-build@{PROJECT}.iam.gserviceaccount.com",
        "logsBucket": f"gs://{BUCKET}/logs",
        "timeout": "600s",
        **extra,
    }


@pytest.fixture
def api(fake_gcp_mock: FakeGCP) -> Iterator[CloudBuilds]:
    fake_gcp_mock.storage.add_bucket(BUCKET)
    yield CloudBuilds(PROJECT, REGION, requests.Session(), sleep=lambda _: None)


def test_upload_is_content_addressed_and_logs_are_read_from_an_offset(api: CloudBuilds, fake_gcp_mock: FakeGCP) -> None:
    assert api.upload(BUCKET, "source/api/c-1.tgz", b"tar bytes") is True
    assert api.upload(BUCKET, "source/api/c-1.tgz", b"tar bytes") is False  # already there: not sent again
    assert fake_gcp_mock.storage.read(BUCKET, "source/api/c-1.tgz") == b"tar bytes"
    assert api.read_log(BUCKET, "logs/log-x.txt", 0) == b""  # not written yet
    fake_gcp_mock.storage.append(BUCKET, "logs/log-x.txt", b"one\ntwo\n")
    assert api.read_log(BUCKET, "logs/log-x.txt", 4) == b"two\n"
    assert api.read_log(BUCKET, "logs/log-x.txt", 8) == b""


def test_missing_bucket_names_the_fix(api: CloudBuilds) -> None:
    with pytest.raises(RemoteError) as err:
        api.upload("nope-bucket", "source/api/c-1.tgz", b"x")
    assert "does not exist" in err.value.message and "infra apply" in (err.value.hint or "")


def test_create_get_and_cancel(api: CloudBuilds, fake_gcp_mock: FakeGCP) -> None:
    api.upload(BUCKET, "source/api/c-1.tgz", b"x")
    gate = threading.Event()
    fake_gcp_mock.cloudbuild.executor = lambda cb, name: gate.wait(30)  # stays QUEUED until released
    build = api.create(_body())
    assert build.name == f"projects/{PROJECT}/locations/{REGION}/builds/{build.id}"
    assert build.log_object == f"logs/log-{build.id}.txt"
    assert api.get(build).status == "QUEUED"
    api.cancel(build)
    assert api.get(build).status == "CANCELLED"
    gate.set()
    fake_gcp_mock.cloudbuild.wait()
    (call,) = fake_gcp_mock.calls_to(CREATE)
    assert any(t.startswith("shipit-req-") for t in call.body["tags"])


def test_default_executor_reports_digests(api: CloudBuilds, fake_gcp_mock: FakeGCP) -> None:
    api.upload(BUCKET, "source/api/c-1.tgz", b"x")
    build = api.create(_body())
    fake_gcp_mock.cloudbuild.wait()
    done = api.get(build)
    assert done.status == "SUCCESS" and done.digest_of(_body()["images"][0]).startswith("sha256:")  # type: ignore[index]


@pytest.mark.parametrize(
    ("status", "expected", "hint"),
    [
        (429, "quota exceeded", "concurrency"),
        (403, "permission denied", "roles/cloudbuild.builds.editor"),
    ],
)
def test_create_errors_are_translated(
    api: CloudBuilds, fake_gcp_mock: FakeGCP, status: int, expected: str, hint: str
) -> None:
    fake_gcp_mock.faults.fail(CREATE, status=status, times=None)
    with pytest.raises(RemoteError) as err:
        api.create(_body())
    assert expected in err.value.message and hint in (err.value.hint or "")
    assert fake_gcp_mock.cloudbuild.builds == {}


def test_lost_answer_is_found_by_its_tag(api: CloudBuilds, fake_gcp_mock: FakeGCP) -> None:
    api.upload(BUCKET, "source/api/c-1.tgz", b"x")
    fake_gcp_mock.faults.drop_response(CREATE)
    build = api.create(_body())
    fake_gcp_mock.cloudbuild.wait()
    assert list(fake_gcp_mock.cloudbuild.builds) == [build.name]
    assert len(fake_gcp_mock.calls_to(CREATE)) == 1
