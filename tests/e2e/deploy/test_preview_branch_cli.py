"""`preview.database: branch` as subprocesses against fakegcp's HTTP server: a preview's own database on the
environment's Cloud SQL instance, its own DATABASE_URL secret, its migration, and their removal.

The infra outputs (the instance, the base DATABASE_URL secret) come from the state file, as after
`shipit infra apply`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from e2e.deploy.conftest import PARENT, Cli, image
from e2e.deploy.test_preview_cli import revision, serving, tagged

PROJECT = "acme-staging"
INSTANCE = "acme-main"
BASE_SECRET = "acme-staging-DATABASE_URL"
PREVIEW_SECRET = "acme-staging-preview-pr-1-DATABASE_URL"
# The password is a canary: it must never be printed, by any command.
PASSWORD = "canary-Pw7xQ2mZ9tLr4VyB"
BASE_URL = f"postgresql://app:{PASSWORD}@10.20.0.3:5432/main?sslmode=disable"
CONFIG = """\
version: 1
app: acme
environments:
  staging:
    project: acme-staging
    region: us-central1
    preview: {{database: {mode}}}
databases:
  main:
    migrate: {{command: ["sh", "-c", "echo migrating"], service: api, timeout: 60}}
services:
  api:
    env: {{LOG_LEVEL: info}}
    databases: [main]
    health: {{path: /health}}
  web:
    env: {{API_URL: "${{services.api.url}}"}}
    cloud_run: {{allow_unauthenticated: true}}
"""
INFRA = {
    "databases": {
        "main": {
            "connection_name": f"{PROJECT}:us-central1:{INSTANCE}",
            "private_ip": "10.20.0.3",
            "url_secret": BASE_SECRET,
            "url_secret_version": "1",
        }
    }
}
BASE = ("services", "deploy", "--yes", "--image", f"api={image('api')}", "--image", f"web={image('web')}")


def setup(cli: Cli, mode: str) -> None:
    from shipit.config.loader import load_config
    from shipit.config.target import resolve_target
    from shipit.results import InfraResult
    from shipit.state import write_result

    (cli.root / "shipit.yaml").write_text(CONFIG.format(mode=mode))
    target = resolve_target(load_config(cli.root / "shipit.yaml", "shipit.yaml"), "staging")
    write_result(target, InfraResult(INFRA))
    cli.fake.secrets.seed(PROJECT, BASE_SECRET, BASE_URL, labels={"app": "acme", "env": "staging"})
    cli.fake.secrets.iam.set(
        cli.fake.secrets._secret(f"projects/{PROJECT}/secrets/{BASE_SECRET}")["name"],
        {"policy": {"bindings": [{"role": "roles/secretmanager.secretAccessor", "members": ["serviceAccount:a@x"]}]}},
    )
    cli.fake.sql.add_instance(PROJECT, INSTANCE, ("postgres", "main"))
    deployed = cli(*BASE)
    assert deployed.returncode == 0, deployed.stderr


def preview(cli: Cli, name: str, api: str = "a", *extra: str) -> Any:
    images = ("--image", f"api={image('api', api)}", "--image", f"web={image('web')}")
    return cli("deploy", "--preview", name, "--only", "preview", "--yes", *images, *extra)


def secret_env(rev: dict[str, Any]) -> dict[str, Any]:
    env = rev["containers"][0].get("env", [])
    return {e["name"]: e["valueSource"]["secretKeyRef"] for e in env if "valueSource" in e}


def job(cli: Cli, job_id: str) -> dict[str, Any]:
    return cli.fake.run.jobs.jobs[f"{PARENT}/jobs/{job_id}"]  # type: ignore[no-any-return]


def test_branch_preview_gets_its_own_database_secret_and_migration(cli: Cli) -> None:
    setup(cli, "branch")
    result = preview(cli, "pr-1")
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert cli.fake.sql.databases(PROJECT, INSTANCE) == ["main", "main_pr_1", "postgres"]
    # The preview's secret: the base URL with the database replaced, labelled with the preview.
    assert cli.fake.secrets.value(f"projects/{PROJECT}/secrets/{PREVIEW_SECRET}").decode() == BASE_URL.replace(
        "/main?", "/main_pr_1?"
    )
    meta = cli.fake.secrets._secret(f"projects/{PROJECT}/secrets/{PREVIEW_SECRET}")
    assert meta["labels"]["shipit-preview"] == "pr-1"
    policy = cli.fake.secrets.iam.get(meta["name"])
    assert {"role": "roles/secretmanager.secretAccessor", "members": ["serviceAccount:a@x"]} in policy["bindings"]
    # api uses the database: its preview revision reads the preview's secret (web is in the preview for api's
    # URL only, and has no database).
    api_rev = revision(cli, "api", tagged(cli, "api")["pr-1"])
    assert secret_env(api_rev)["DATABASE_URL"] == {"secret": PREVIEW_SECRET, "version": "1"}
    assert "DATABASE_URL" not in secret_env(revision(cli, "web", tagged(cli, "web")["pr-1"]))
    base_rev = revision(cli, "api", serving(cli, "api")[0][0])
    assert secret_env(base_rev)["DATABASE_URL"]["secret"] == BASE_SECRET
    # The migration ran as the preview's own job, against the preview's secret, with the preview's image.
    migrate = job(cli, "acme-migrate-main-pr-1")
    container = migrate["template"]["template"]["containers"][0]
    assert {"secret": PREVIEW_SECRET, "version": "1"} in [
        e["valueSource"]["secretKeyRef"] for e in container["env"] if "valueSource" in e
    ]
    assert container["image"] == image("api")
    assert [e for e in cli.fake.run.jobs.executions if "/jobs/acme-migrate-main-pr-1/" in e]

    # Listed with its database.
    listed = cli("preview", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert listed.json()["previews"][0]["databases"] == {"main": "main_pr_1"}

    # Re-deploying the same preview: no new database, no new secret version, no new execution.
    cli.fake.reset_calls()
    again = preview(cli, "pr-1")
    assert again.returncode == 0, again.stderr
    assert cli.fake.mutating_calls() == []
    assert cli.fake.calls_to("sql.databases.insert") == []

    # A reader of the base secret that cannot read the preview's (a grant lost, or added since) gets access.
    cli.fake.secrets.iam.set(meta["name"], {"policy": {"bindings": []}})
    regranted = preview(cli, "pr-1")
    assert regranted.returncode == 0, regranted.stderr
    policy = cli.fake.secrets.iam.get(meta["name"])
    assert {"role": "roles/secretmanager.secretAccessor", "members": ["serviceAccount:a@x"]} in policy["bindings"]

    # Deleting it drops the database, the secret and the job, and leaves the base alone.
    deleted = cli("preview", "delete", "pr-1", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert PASSWORD not in deleted.stdout + deleted.stderr
    assert cli.fake.sql.databases(PROJECT, INSTANCE) == ["main", "postgres"]
    assert not [s for s in cli.fake.secrets.secrets if s.endswith("/" + PREVIEW_SECRET)]
    assert f"{PARENT}/jobs/acme-migrate-main-pr-1" not in cli.fake.run.jobs.jobs
    assert [s for s in cli.fake.secrets.secrets if s.endswith("/" + BASE_SECRET)]


def test_a_rotated_base_url_gives_the_preview_a_new_version(cli: Cli) -> None:
    setup(cli, "branch")
    assert preview(cli, "pr-1").returncode == 0
    # The base secret gets a second version, as a password rotation would.
    rotated = BASE_URL.replace(PASSWORD, PASSWORD + "-2")
    base = cli.fake.secrets._secret(f"projects/{PROJECT}/secrets/{BASE_SECRET}")["name"]
    cli.fake.secrets._add_version(base, rotated.encode())
    result = preview(cli, "pr-1")
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    api_rev = revision(cli, "api", tagged(cli, "api")["pr-1"])
    assert secret_env(api_rev)["DATABASE_URL"] == {"secret": PREVIEW_SECRET, "version": "2"}
    assert cli.fake.sql.databases(PROJECT, INSTANCE) == ["main", "main_pr_1", "postgres"]


def test_a_failed_preview_migration_writes_no_service(cli: Cli) -> None:
    setup(cli, "branch")
    cli.fake.run.jobs.fail_executions("acme-migrate-main-pr-1", "relation users already exists")
    result = preview(cli, "pr-1")
    assert result.returncode == 1
    assert "relation users already exists" in result.stderr
    assert "pr-1" not in tagged(cli, "api") and "pr-1" not in tagged(cli, "web")
    assert PASSWORD not in result.stdout + result.stderr


def test_pruning_an_old_branch_preview_drops_its_database(cli: Cli) -> None:
    setup(cli, "branch")
    assert preview(cli, "pr-1").returncode == 0
    result = preview(cli, "pr-2", "b", "--prune-oldest", "1")
    assert result.returncode == 0, result.stderr
    assert cli.fake.sql.databases(PROJECT, INSTANCE) == ["main", "main_pr_2", "postgres"]
    assert not [s for s in cli.fake.secrets.secrets if s.endswith("/" + PREVIEW_SECRET)]
    assert f"{PARENT}/jobs/acme-migrate-main-pr-1" not in cli.fake.run.jobs.jobs


def test_shared_previews_make_no_database_call(cli: Cli) -> None:
    setup(cli, "shared")
    result = preview(cli, "pr-1", "b")
    assert result.returncode == 0, result.stderr
    assert not [c for c in cli.fake.calls if c.method_id and c.method_id.startswith("sql.")]
    api_rev = revision(cli, "api", tagged(cli, "api")["pr-1"])
    assert secret_env(api_rev)["DATABASE_URL"]["secret"] == BASE_SECRET
    assert not [j for j in cli.fake.run.jobs.jobs if j.endswith("-pr-1")]
    assert cli("preview", "delete", "pr-1", "--yes").returncode == 0
    assert not [c for c in cli.fake.calls if c.method_id and c.method_id.startswith("sql.")]


def test_a_preview_name_too_long_for_a_database_name_is_refused_before_any_write(cli: Cli, tmp_path: Path) -> None:
    setup(cli, "branch")
    config = (cli.root / "shipit.yaml").read_text().replace("  main:\n", "  main:\n    name: " + "m" * 40 + "\n")
    (cli.root / "shipit.yaml").write_text(config)
    cli.fake.reset_calls()
    result = preview(cli, "pr-12345678901234567890")
    assert result.returncode == 2, result.stderr
    assert "over 63" in result.stderr
    assert cli.fake.mutating_calls() == []


@pytest.mark.parametrize("mode", ["branch"])
def test_branch_without_the_instance_output_fails_before_any_write(cli: Cli, mode: str) -> None:
    setup(cli, mode)
    from shipit.config.loader import load_config
    from shipit.config.target import resolve_target
    from shipit.results import InfraResult
    from shipit.state import write_result

    target = resolve_target(load_config(cli.root / "shipit.yaml", "shipit.yaml"), "staging")
    write_result(target, InfraResult({"databases": {"main": {"url_secret": BASE_SECRET}}}))
    cli.fake.reset_calls()
    result = preview(cli, "pr-1")
    assert result.returncode == 1
    assert "shipit infra apply" in result.stderr
    assert cli.fake.mutating_calls() == []


def test_a_preview_secret_shipit_does_not_manage_is_left_alone(cli: Cli) -> None:
    setup(cli, "branch")
    cli.fake.secrets.seed(PROJECT, PREVIEW_SECRET, "someone else's", labels={"team": "data"})
    cli.fake.reset_calls()
    result = preview(cli, "pr-1")
    assert result.returncode == 1
    assert PREVIEW_SECRET in result.stderr
    assert cli.fake.mutating_calls() == []
    # Nor does deleting the preview touch it.
    assert cli("preview", "delete", "pr-1", "--yes").returncode == 0
    assert [s for s in cli.fake.secrets.secrets if s.endswith("/" + PREVIEW_SECRET)]
