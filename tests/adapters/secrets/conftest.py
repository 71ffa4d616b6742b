"""Secrets step through the REAL SecretManagerServiceClient (REST) against fakegcp, in-process via responses."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from secrets_adapter_support import CONFIG, VALUES, Project

from fakegcp import FakeGCP
from fakegcp.fixtures import fake_gcp, fake_gcp_mock

__all__ = ["fake_gcp", "fake_gcp_mock"]


@pytest.fixture
def project_factory(tmp_path: Path, fake_gcp_mock: FakeGCP, gcp_token: str) -> Callable[..., Project]:
    def make(secrets: str = "", values: dict[str, str] | None = None) -> Project:
        (tmp_path / "shipit.yaml").write_text(CONFIG % {"secrets": secrets})
        project = Project(tmp_path, fake_gcp_mock, io.StringIO())
        project.write_env(VALUES if values is None else values)
        return project

    return make


@pytest.fixture
def project(project_factory: Callable[..., Project]) -> Project:
    return project_factory()
