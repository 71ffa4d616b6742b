"""Secrets step through the REAL SecretManagerServiceClient (REST) against fakegcp, in-process via responses."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from secrets_adapter_support import CONFIG, VALUES, Project

from fakegcp import FakeGCP
from fakegcp.fixtures import fake_gcp, fake_gcp_mock
from shipit.adapters.gcp import auth

__all__ = ["fake_gcp", "fake_gcp_mock"]


@pytest.fixture
def project_factory(
    tmp_path: Path, fake_gcp_mock: FakeGCP, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Project]]:
    monkeypatch.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN", "test-token")
    monkeypatch.delenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER", raising=False)
    auth.reset_cache()

    def make(secrets: str = "", values: dict[str, str] | None = None) -> Project:
        (tmp_path / "shipit.yaml").write_text(CONFIG % {"secrets": secrets})
        project = Project(tmp_path, fake_gcp_mock, io.StringIO())
        project.write_env(VALUES if values is None else values)
        return project

    yield make
    auth.reset_cache()


@pytest.fixture
def project(project_factory: Callable[..., Project]) -> Project:
    return project_factory()
