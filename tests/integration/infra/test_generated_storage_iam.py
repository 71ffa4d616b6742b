"""Cloud Storage volumes in the generated Terraform: the account of the service that mounts a bucket gets
object access on THAT bucket (objectViewer when every mount of it is read-only, else objectUser), never a
project-wide storage role. The bindings are the module's own `locals`, evaluated by the real terraform."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from infra_support import generate, targets_of, write_config, write_tree

from shipit.infra.generate import desired_files

pytestmark = pytest.mark.terraform

CONFIG = """\
services:
  api:
    volumes:
      uploads: {gcs: {bucket: acme-uploads}, mount: /uploads}
      media: {gcs: {bucket: acme-media, read_only: true}, mount: /media}
      media-again: {gcs: {bucket: acme-media, read_only: true, mount_options: [implicit-dirs]}, mount: /m2}
      cache: {empty_dir: {size_limit: 64Mi}, mount: /cache}
  web:
    volumes:
      media: {gcs: {bucket: acme-media}, mount: /media}
      share: {nfs: {server: 10.0.0.2}, mount: /share}
    cloud_run: {vpc: {mode: direct}}
  plain: {}
"""
PROBE = 'output "bucket_members" { value = local.bucket_members }\n'


def _tf(terraform_bin: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([terraform_bin, *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_a_mounted_bucket_grants_its_service_object_access_on_that_bucket_only(tmp_path: Path) -> None:
    targets = targets_of(write_config(tmp_path, CONFIG))
    generated = generate(targets)
    member = generated.resource("google_storage_bucket_iam_member", "volume")
    assert member == {
        "for_each": "${local.bucket_members}",
        "bucket": "${each.value.bucket}",
        "role": "${each.value.role}",
        "member": "serviceAccount:${local.service_account_emails[each.value.service]}",
    }
    roles = [str(body.get("role")) for t, _, body in generated.resources() if t == "google_project_iam_member"]
    assert not any("storage" in r for r in roles), roles
    for target in targets:
        services = generated.inputs(target.env_name)["services"]
        assert services["api"]["buckets"] == {
            "acme-uploads": "roles/storage.objectUser",
            "acme-media": "roles/storage.objectViewer",
        }
        assert services["web"]["buckets"] == {"acme-media": "roles/storage.objectUser"}
        assert "buckets" not in services["plain"]


def test_no_storage_section_without_a_cloud_storage_volume(tmp_path: Path) -> None:
    generated = generate(targets_of(write_config(tmp_path, "services:\n  api: {}\n")))
    assert "storage.tf" not in generated.files
    assert "bucket_members" not in generated.files["locals.tf"]


def test_terraform_evaluates_the_bindings(tmp_path: Path, terraform_bin: str) -> None:
    targets = targets_of(write_config(tmp_path, CONFIG))
    generated = generate(targets)
    write_tree(tmp_path / "infra", desired_files(targets))
    proc = _tf(terraform_bin, tmp_path / "infra", "fmt", "-check", "-recursive", "-diff", "-no-color")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    target = targets[0]
    probe = tmp_path / "probe"
    probe.mkdir()
    for file in ("variables.tf", "locals.tf"):
        (probe / file).write_text(generated.files[file])
    (probe / "probe.tf").write_text(PROBE)
    inputs = generated.inputs(target.env_name)
    inputs.pop("source")
    (probe / "terraform.tfvars.json").write_text(json.dumps(inputs))
    for args in (("init", "-input=false", "-no-color"), ("apply", "-auto-approve", "-input=false", "-no-color")):
        proc = _tf(terraform_bin, probe, *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _tf(terraform_bin, probe, "output", "-json")
    outputs = {k: v["value"] for k, v in json.loads(proc.stdout).items()}
    assert outputs["bucket_members"] == {
        "api/acme-uploads": {"service": "api", "bucket": "acme-uploads", "role": "roles/storage.objectUser"},
        "api/acme-media": {"service": "api", "bucket": "acme-media", "role": "roles/storage.objectViewer"},
        "web/acme-media": {"service": "web", "bucket": "acme-media", "role": "roles/storage.objectUser"},
    }
