"""The fullstack example's multi-region environment (`-e global`) against fakegcp over HTTP: `web` in two
regions behind the load balancer, `api` next to its database in the primary region."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.deploy.conftest import Cli
from e2e_support import HealthServer
from fakegcp.server import FakeGCPServer

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "fullstack"
PROJECT = "shop-global-123"
PRIMARY, SECOND = "europe-west1", "us-central1"


def image(service: str, letter: str = "a") -> str:
    return f"{PRIMARY}-docker.pkg.dev/{PROJECT}/shop/{service}@sha256:{letter * 64}"


def deploy_args(letter: str = "a") -> tuple[str, ...]:
    images = ("--image", f"api={image('api')}", "--image", f"web={image('web', letter)}")
    return ("-e", "global", "services", "deploy", "--yes", *images)


def service(cli: Cli, region: str, name: str) -> dict[str, Any]:
    return cli.fake.run.services[f"projects/{PROJECT}/locations/{region}/services/{name}"]  # type: ignore[no-any-return]


@pytest.fixture
def cli(tmp_path: Path, fake_gcp_server: FakeGCPServer) -> Iterator[Cli]:
    root = tmp_path / "fullstack"
    shutil.copytree(EXAMPLE, root)
    (root / ".env.prod").write_text("STRIPE_KEY=sk_test_multiregion\n")
    health = HealthServer()
    yield Cli(root, fake_gcp_server, health)
    health.stop()


def test_deploy_in_two_regions_then_noop_then_status(cli: Cli) -> None:
    first = cli(*deploy_args(), "--json")
    assert first.returncode == 0, first.stderr
    result = first.json()["result"]
    assert set(result) == {"api", "web", f"web@{SECOND}"}
    assert result[f"web@{SECOND}"]["region"] == SECOND

    services = set(cli.fake.run.services)
    assert f"projects/{PROJECT}/locations/{PRIMARY}/services/web" in services
    assert f"projects/{PROJECT}/locations/{SECOND}/services/web" in services
    assert f"projects/{PROJECT}/locations/{SECOND}/services/api" not in services  # it stays by its database
    for region in (PRIMARY, SECOND):
        web = service(cli, region, "web")
        # Behind the load balancer: only it (and the VPC) reach the service.
        assert web["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
        assert web["latestReadyRevision"] == web["latestCreatedRevision"]
        env = {e["name"]: e.get("value") for e in web["template"]["containers"][0]["env"]}
        # Both regions' frontends talk to the one API, in the primary region.
        assert env["API_URL"] == service(cli, PRIMARY, "api")["uri"]
    assert service(cli, PRIMARY, "api")["ingress"] == "INGRESS_TRAFFIC_ALL"

    cli.fake.reset_calls()
    again = cli(*deploy_args())
    assert again.returncode == 0, again.stderr
    assert "no changes (3 unchanged)" in again.stdout
    assert cli.fake.mutating_calls() == []

    status = cli("-e", "global", "status", "--json")
    assert status.returncode == 0, status.stderr
    rows = {r["name"]: r for r in status.json()["services"]}
    assert set(rows) == {"api", "web", f"web@{SECOND}"}
    assert rows[f"web@{SECOND}"]["image"] == image("web")
    assert rows[f"web@{SECOND}"]["url"] == service(cli, SECOND, "web")["uri"]
    assert all(r["drift"] == [] for r in rows.values())


def test_plan_lists_every_region(cli: Cli) -> None:
    plan = cli(*deploy_args(), "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "service web@us-central1" in plan.stdout
    assert "service api@" not in plan.stdout
    assert cli.fake.mutating_calls() == []


def test_rollback_goes_back_in_every_region(cli: Cli) -> None:
    assert cli(*deploy_args()).returncode == 0
    first = {r: service(cli, r, "web")["latestReadyRevision"].rsplit("/", 1)[-1] for r in (PRIMARY, SECOND)}
    second = cli(*deploy_args("b"))
    assert second.returncode == 0, second.stderr
    for region in (PRIMARY, SECOND):
        assert service(cli, region, "web")["template"]["containers"][0]["image"] == image("web", "b")

    rollback = cli("-e", "global", "rollback", "web", "--yes", "--json")
    assert rollback.returncode == 0, rollback.stderr
    for region in (PRIMARY, SECOND):
        assert service(cli, region, "web")["trafficStatuses"][0]["revision"] == first[region]
    status = {r["name"]: r for r in cli("-e", "global", "status", "--json").json()["services"]}
    assert [t["revision"] for t in status[f"web@{SECOND}"]["traffic"]] == [first[SECOND]]


def test_rollback_without_a_name_goes_back_in_every_region(cli: Cli) -> None:
    assert cli(*deploy_args()).returncode == 0
    first = {r: service(cli, r, "web")["latestReadyRevision"].rsplit("/", 1)[-1] for r in (PRIMARY, SECOND)}
    assert cli(*deploy_args("b")).returncode == 0
    api = service(cli, PRIMARY, "api")["traffic"]

    rollback = cli("-e", "global", "rollback", "--yes")
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    for region in (PRIMARY, SECOND):
        assert service(cli, region, "web")["trafficStatuses"][0]["revision"] == first[region]
    # api was not changed by the last release: it stays.
    assert service(cli, PRIMARY, "api")["traffic"] == api


def test_a_failing_region_stops_the_release_before_the_next(cli: Cli) -> None:
    assert cli(*deploy_args()).returncode == 0
    old = {r: service(cli, r, "web")["latestReadyRevision"] for r in (PRIMARY, SECOND)}
    cli.fake.run.fail_revisions("web")
    result = cli(*deploy_args("b"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # The primary region's new revision failed: traffic stayed, and the next region was not touched at all.
    assert service(cli, PRIMARY, "web")["latestReadyRevision"] == old[PRIMARY]
    assert service(cli, PRIMARY, "web")["latestCreatedRevision"] != old[PRIMARY]
    assert service(cli, SECOND, "web")["latestCreatedRevision"] == old[SECOND]
    assert service(cli, SECOND, "web")["template"]["containers"][0]["image"] == image("web")


def test_rollback_to_a_revision_moves_the_region_that_has_it(cli: Cli) -> None:
    assert cli(*deploy_args()).returncode == 0
    first = service(cli, SECOND, "web")["latestReadyRevision"].rsplit("/", 1)[-1]
    assert cli(*deploy_args("b")).returncode == 0
    primary_now = service(cli, PRIMARY, "web")["trafficStatuses"]

    rollback = cli("-e", "global", "rollback", "web", "--to", first, "--yes")
    assert rollback.returncode == 0, rollback.stderr
    assert service(cli, SECOND, "web")["trafficStatuses"][0]["revision"] == first
    assert service(cli, PRIMARY, "web")["trafficStatuses"] == primary_now
    unknown = cli("-e", "global", "rollback", "web", "--to", "web-99999-zzz", "--yes")
    assert unknown.returncode == 2
    assert "has no revision web-99999-zzz" in unknown.stderr
