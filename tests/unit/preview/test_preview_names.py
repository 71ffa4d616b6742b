"""Preview names are Cloud Run tags whose URL stays a valid host name; the preview config section."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import invoke
from shipit.errors import ShipitError, UsageError
from shipit.steps.preview import check_name
from shipit.steps.preview.database import database_name, with_database
from shipit.steps.preview.names import max_length, revision_id, tag_url


@pytest.mark.parametrize("name", ["pr-1", "a", "feature-42x", "p" * max_length(["api"])])
def test_valid_names(name: str) -> None:
    assert check_name(name, ["api", "web"]) == name


@pytest.mark.parametrize("name", ["PR-1", "1pr", "pr_1", "pr-", "-pr", "pr---1", "", "candidate", "pr.1"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(UsageError):
        check_name(name, ["api"])


def test_the_longest_service_bounds_the_name() -> None:
    short, long = max_length(["api"]), max_length(["api", "a-very-long-service-name"])
    assert long < short
    check_name("p" * long, ["a-very-long-service-name"])
    with pytest.raises(UsageError, match="too long"):
        check_name("p" * (long + 1), ["a-very-long-service-name"])
    # TAG---SERVICE-HASH-xx fits in one 63-character DNS label.
    host = tag_url("https://" + "a-very-long-service-name-abcdefghij-uc.a.run.app", "p" * long)
    assert len(host.removeprefix("https://").split(".")[0]) <= 63


def test_revision_id_ignores_release_labels() -> None:
    one = {"containers": [{"image": "x"}], "labels": {"shipit-release": "r1", "team": "a"}}
    two = {"containers": [{"image": "x"}], "labels": {"shipit-release": "r2", "team": "a"}}
    other = {"containers": [{"image": "y"}], "labels": {"team": "a"}}
    assert revision_id("api", "pr-1", one) == revision_id("api", "pr-1", two) != revision_id("api", "pr-1", other)
    assert revision_id("api", "pr-1", one).startswith("api-pr-1-")


BASE = (
    "version: 1\napp: acme\nservices:\n  api: {image: busybox}\nenvironments:\n  staging:\n    project: acme-staging\n"
)


def test_both_database_modes_validate_and_anything_else_is_refused(tmp_path: Path) -> None:
    for mode in ("branch", "shared"):
        (tmp_path / "shipit.yaml").write_text(BASE + f"    region: us-central1\n    preview: {{database: {mode}}}\n")
        assert invoke("-f", str(tmp_path / "shipit.yaml"), "validate").exit_code == 0
    (tmp_path / "shipit.yaml").write_text(BASE + "    region: us-central1\n    preview: {database: copy}\n")
    result = invoke("-f", str(tmp_path / "shipit.yaml"), "validate")
    assert result.exit_code == 2
    assert "shipit.yaml:" in result.stderr and "branch" in result.stderr


def test_a_preview_database_is_named_after_the_base_one_and_fits_postgres() -> None:
    assert database_name("main", "pr-12") == "main_pr_12"
    assert len(database_name("d" * 40, "p" * 22)) == 63
    with pytest.raises(UsageError, match="over 63"):
        database_name("d" * 40, "p" * 23)


def test_the_preview_url_is_the_base_one_with_another_database() -> None:
    assert with_database("postgresql://app:pw@10.0.0.3:5432/main?sslmode=require", "main_pr_1") == (
        "postgresql://app:pw@10.0.0.3:5432/main_pr_1?sslmode=require"
    )
    assert with_database("mysql://app:pw@/main?unix_socket=/cloudsql/p:r:i", "main_pr_1") == (
        "mysql://app:pw@/main_pr_1?unix_socket=/cloudsql/p:r:i"
    )
    with pytest.raises(ShipitError) as raised:
        with_database("not a url with secret-value", "x")
    assert "secret-value" not in str(raised.value)
