"""Two environments in one project: the names that are not prefixed per environment are reported, located."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipit.config import load_config
from shipit.errors import ConfigError

BASE = """\
version: 1
app: acme
environments:
  staging: {project: acme-shared, region: us-central1}
  prod: {project: acme-shared, region: REGION}
services:
  api: {build: {context: .}, port: 8080}
"""


def problems(tmp_path: Path, text: str) -> str:
    path = tmp_path / "shipit.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path, "shipit.yaml")
    return str(err.value)


def test_same_project_and_region_would_share_the_cloud_run_services(tmp_path: Path) -> None:
    text = problems(tmp_path, BASE.replace("REGION", "us-central1"))
    assert "shipit.yaml:5:" in text
    assert "environments staging and prod share project acme-shared and region us-central1" in text
    assert "Cloud Run services would overwrite each other" in text


def test_other_region_still_shares_the_topics(tmp_path: Path) -> None:
    config = BASE.replace("REGION", "europe-west1") + "pubsub:\n  topics: {jobs: {}}\n"
    config += "registry: {location: us-east1}\n"
    text = problems(tmp_path, config)
    assert "Pub/Sub topic and subscription names are project-wide" in text and "jobs" in text
    assert "image repository acme in us-east1" in text


def test_other_region_and_a_repository_per_environment_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "shipit.yaml"
    path.write_text(BASE.replace("REGION", "europe-west1"))
    assert set(load_config(path, "shipit.yaml").base.environments) == {"staging", "prod"}


def test_separate_projects_never_collide(tmp_path: Path) -> None:
    path = tmp_path / "shipit.yaml"
    text = BASE.replace("REGION", "us-central1").replace(
        "{project: acme-shared, region: us-central1}\n  prod", "{project: acme-stg, region: us-central1}\n  prod"
    )
    path.write_text(text + "pubsub:\n  topics: {jobs: {}}\n")
    load_config(path, "shipit.yaml")
