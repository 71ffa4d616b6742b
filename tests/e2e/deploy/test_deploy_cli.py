from __future__ import annotations

from e2e.deploy.conftest import PARENT, Cli, image

DEPLOY = ("services", "deploy", "--yes", "--image", f"api={image('api')}", "--image", f"web={image('web')}")


def test_deploy_then_noop_then_status(cli: Cli) -> None:
    first = cli(*DEPLOY, "--json")
    assert first.returncode == 0, first.stderr
    data = first.json()
    assert data["applied"] is True
    assert set(data["result"]) == {"api", "web"}
    assert cli.service("web")["template"]["containers"][0]["env"][0]["value"] == cli.service("api")["uri"]

    cli.fake.reset_calls()
    again = cli(*DEPLOY)
    assert again.returncode == 0, again.stderr
    assert "no changes (2 unchanged)" in again.stdout
    assert cli.fake.mutating_calls() == []

    status = cli("status", "--json")
    assert status.returncode == 0, status.stderr
    rows = {r["name"]: r for r in status.json()["services"]}
    assert rows["api"]["image"] == image("api")
    assert rows["api"]["git_sha"] == "1234567"
    assert rows["api"]["drift"] == []
    table = cli("status")
    assert "api" in table.stdout and "DRIFT" in table.stdout


def test_dry_run_writes_nothing(cli: Cli) -> None:
    result = cli(*DEPLOY, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "to create" in result.stdout
    assert cli.fake.mutating_calls() == []


def test_failing_revision_exits_1_with_cause(cli: Cli) -> None:
    assert cli(*DEPLOY).returncode == 0
    old = cli.service("api")["latestReadyRevision"]
    cli.fake.run.fail_revisions("api")
    result = cli("services", "deploy", "api", "--yes", "--image", f"api={image('api', 'b')}")
    assert result.returncode == 1
    assert "did not start listening on port 8080" in result.stderr
    assert "Traceback" not in result.stderr
    assert cli.service("api")["latestReadyRevision"] == old


def test_canary_promote_rollback(cli: Cli) -> None:
    assert cli(*DEPLOY).returncode == 0
    first = cli.service("api")["latestReadyRevision"].rsplit("/", 1)[-1]
    canary = cli("services", "deploy", "api", "--yes", "--canary", "25", "--image", f"api={image('api', 'b')}")
    assert canary.returncode == 0, canary.stderr
    assert any(s.startswith("candidate---api-") and s.endswith("/health") for s in cli.health.seen)
    percents = sorted(t.get("percent", 0) for t in cli.service("api")["traffic"])
    assert percents == [25, 75]

    promote = cli("promote", "--yes")
    assert promote.returncode == 0, promote.stderr
    # All traffic on the latest revision; the candidate tag stays on it at 0%, so its URL stays valid.
    traffic = cli.service("api")["traffic"]
    assert traffic[0] == {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}
    assert [t.get("tag") for t in traffic[1:]] == ["candidate"] and not traffic[1].get("percent")
    assert "nothing to promote" in cli("promote", "--yes").stderr + cli("promote", "--yes").stdout

    rollback = cli("rollback", "api", "--yes")
    assert rollback.returncode == 0, rollback.stderr
    assert cli.service("api")["trafficStatuses"][0]["revision"] == first
    nothing = cli("rollback", "api", "--yes")
    assert nothing.returncode == 1
    assert "nothing to roll back to" in nothing.stderr


def test_failed_health_check_keeps_traffic(cli: Cli) -> None:
    assert cli(*DEPLOY).returncode == 0
    first = cli.service("api")["latestReadyRevision"].rsplit("/", 1)[-1]
    cli.health.unhealthy.add("candidate---api-")
    cfg = (
        (cli.root / "shipit.yaml").read_text().replace("health: {path: /health}", "health: {path: /health, timeout: 1}")
    )
    (cli.root / "shipit.yaml").write_text(cfg)
    result = cli("services", "deploy", "api", "--yes", "--staged", "--image", f"api={image('api', 'b')}")
    assert result.returncode == 1
    assert "health check of the new revision failed (HTTP 503)" in result.stderr
    assert cli.service("api")["traffic"] == [
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": first, "percent": 100}
    ]


def test_bad_input_exit_2(cli: Cli) -> None:
    result = cli("services", "deploy", "--image", "api")
    assert result.returncode == 2
    assert "expected NAME=VALUE" in result.stderr
    missing = cli("services", "deploy", "--yes")
    assert missing.returncode == 2
    assert "no image for service" in missing.stderr
    unknown = cli("services", "deploy", "apx", "--yes")
    assert unknown.returncode == 2 and "did you mean 'api'" in unknown.stderr
    assert cli.fake.mutating_calls() == []
    assert PARENT
