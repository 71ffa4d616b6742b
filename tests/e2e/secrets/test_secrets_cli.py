"""The four `shipit secrets` commands end to end: exit codes, JSON, files, and the fake's call log."""

from __future__ import annotations

import stat

from secrets_cli_support import PROJECT, Cli

from fakegcp.model import project_number

ENV = """\
STRIPE_KEY=sk_test_e2e_0001
export DB_PASSWORD='pw e2e 0002'
SA_JSON="{\\"type\\": \\"service_account\\",
\\"k\\": \\"v-0003\\"}"
NPM_TOKEN=npm_e2e_0004
"""
SM = "secretmanager.projects.secrets."


def test_sync_then_resync_then_change(cli: Cli) -> None:
    cli.write_env(ENV)
    diff = cli("secrets", "diff")
    assert "secrets: 4 to create" in diff.stdout and "STRIPE_KEY" in diff.stdout
    assert cli.mutating() == []

    first = cli("secrets", "sync", "--yes", "--json").json()
    assert first["applied"] is True
    assert first["result"]["STRIPE_KEY"] == f"projects/{PROJECT}/secrets/acme-staging-STRIPE_KEY/versions/1"
    assert len(cli.mutating()) == 8  # 4 creates + 4 versions

    cli.fake.reset_calls()
    second = cli("secrets", "sync", "--yes", "--json").json()
    assert second["applied"] is False and second["plan"]["counts"]["no-op"] == 4
    assert cli.mutating() == []

    cli.write_env(ENV.replace("npm_e2e_0004", "npm_e2e_0005"))
    third = cli("secrets", "sync", "--yes")
    assert "1 to update" in third.stdout and "version: 1 -> 2" in third.stdout
    assert cli.mutating() == [SM + "addVersion"]


def test_dry_run_writes_nothing(cli: Cli) -> None:
    cli.write_env(ENV)
    out = cli("secrets", "sync", "--dry-run")
    assert "4 to create" in out.stdout and "dry run" in out.stderr + out.stdout
    assert cli.mutating() == []
    assert cli.fake.state()["secrets"] == {}


def test_missing_key_exits_2_naming_file_and_key_before_any_write(cli: Cli) -> None:
    cli.write_env("STRIPE_KEY=only-this-one\n")
    out = cli("secrets", "sync", "--yes", expect=2)
    assert ".env.staging" in out.stderr and "NPM_TOKEN" in out.stderr and "Traceback" not in out.stderr
    assert cli.mutating() == []


def test_invalid_env_line_exits_2_with_file_and_line(cli: Cli) -> None:
    cli.write_env(ENV + "not a valid line\n")
    out = cli("secrets", "diff", expect=2)
    assert "error: .env.staging:6: cannot parse this line" in out.stderr


def test_prune_needs_yes_without_a_terminal(cli: Cli) -> None:
    cli.write_env(ENV)
    cli("secrets", "sync", "--yes")
    cli.fake.secrets.seed(
        PROJECT, "acme-staging-GONE", "x-gone", labels={"managed-by": "shipit", "app": "acme", "env": "staging"}
    )
    cli.fake.reset_calls()
    out = cli("secrets", "sync", "--prune", expect=2)
    assert "--yes" in out.stderr
    assert cli.fake.calls == []  # refused before reading a single secret
    cli("secrets", "sync", "--prune", "--yes")
    assert f"projects/{project_number(PROJECT)}/secrets/acme-staging-GONE" not in cli.fake.state()["secrets"]


def test_list_shows_metadata_only(cli: Cli) -> None:
    cli.write_env(ENV)
    cli("secrets", "sync", "--yes")
    table = cli("secrets", "list").stdout
    assert "acme-staging-STRIPE_KEY" in table and "sha256:" not in table and "HASH" not in table
    rows = {r["key"]: r for r in cli("secrets", "list", "--json").json()["secrets"]}
    assert rows["NPM_TOKEN"]["versions"] == 1 and rows["NPM_TOKEN"]["latest_version"] == 1
    assert rows["NPM_TOKEN"]["status"] == "synced" and "value_hash" not in rows["NPM_TOKEN"]


def test_pull_writes_a_private_file_that_syncs_back_unchanged(cli: Cli) -> None:
    cli.write_env(ENV)
    cli("secrets", "sync", "--yes")
    (cli.root / ".env.staging").unlink()
    dry = cli("secrets", "pull", "--dry-run")
    assert "dry run: would write 4 key(s) to .env.staging; nothing written" in dry.stdout + dry.stderr
    assert not (cli.root / ".env.staging").exists()
    out = cli("secrets", "pull")
    assert "wrote 4 key(s) to .env.staging (mode 0600)" in out.stderr + out.stdout
    path = cli.root / ".env.staging"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    refused = cli("secrets", "pull", expect=2)
    assert "already exists" in refused.stderr and "--force" in refused.stderr
    cli("secrets", "pull", "--force")
    cli.fake.reset_calls()
    assert "no changes" in cli("secrets", "sync", "--yes").stdout  # the pulled file holds exactly the synced values
    assert cli.mutating() == []
