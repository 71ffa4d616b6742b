"""The remote-build part of the generated module: a private staging bucket that forgets old sources, and a
build account with exactly the roles a build needs."""

from __future__ import annotations

from pathlib import Path

from infra_support import CONFIGS, generate, targets_of, write_config


def _remote(tmp_path: Path):  # type: ignore[no-untyped-def]
    return generate(targets_of(write_config(tmp_path, CONFIGS["remote-builds"])))


def test_bucket_is_private_uniform_and_deletes_old_sources(tmp_path: Path) -> None:
    generated = _remote(tmp_path)
    bucket = generated.resource("google_storage_bucket", "builds")
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    (rule,) = bucket["lifecycle_rule"]
    assert rule["action"] == [{"type": "Delete"}] or rule["action"] == {"type": "Delete"}
    inputs = generated.inputs("prod")["remote_builds"]
    assert inputs["bucket"] == "shop-prod-1-shipit-builds" and inputs["source_days"] == 7
    # A named account is used as is; the build secrets it may read are the Terraform-managed ones.
    assert inputs["service_account_email"] == "builder@shop-prod-1.iam.gserviceaccount.com"
    assert "account_id" not in inputs
    assert inputs["secrets"] == ["NPM_TOKEN"]


def test_build_account_gets_least_privilege_roles(tmp_path: Path) -> None:
    generated = _remote(tmp_path)
    roles = {
        (rtype, body.get("role"))
        for rtype, name, body in generated.resources()
        if name.startswith("build") and rtype.endswith("_iam_member")
    }
    assert roles == {
        ("google_artifact_registry_repository_iam_member", "roles/artifactregistry.writer"),
        ("google_storage_bucket_iam_member", "${each.value}"),
        ("google_project_iam_member", "roles/logging.logWriter"),
        ("google_secret_manager_secret_iam_member", "roles/secretmanager.secretAccessor"),
    }
    text = generated.files["builds.tf"]
    assert '"roles/storage.objectViewer"' in text and '"roles/storage.objectCreator"' in text
    assert "roles/storage.admin" not in text and "roles/cloudbuild" not in text


def test_no_builds_section_without_remote_builds(tmp_path: Path) -> None:
    generated = generate(targets_of(write_config(tmp_path, CONFIGS["no-database"])))
    assert "builds.tf" not in generated.files
    assert "remote_builds" not in generated.files["variables.tf"]


def test_default_account_is_created_by_terraform(tmp_path: Path) -> None:
    body = CONFIGS["remote-builds"].replace(
        ", cloudbuild: {service_account: builder@shop-prod-1.iam.gserviceaccount.com}", ""
    )
    generated = generate(targets_of(write_config(tmp_path, body)))
    inputs = generated.inputs("staging")["remote_builds"]
    assert inputs["account_id"] == "shipit-build" and "service_account_email" not in inputs
