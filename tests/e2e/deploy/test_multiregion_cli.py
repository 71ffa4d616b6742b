"""The fullstack example's multi-region environment (`-e global`) against fakegcp over HTTP: `web` in two
regions behind the load balancer, `api` in both regions too, reaching its database in the primary region
through each region's own VPC connector (the Terraform outputs as `shipit infra apply` caches them)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.deploy.conftest import Cli
from e2e_support import HealthServer, fake_server_env
from fakegcp.server import FakeGCPServer

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "fullstack"
PROJECT = "shop-global-123"
PRIMARY, SECOND = "europe-west1", "us-central1"


CONNECTORS = {
    PRIMARY: f"projects/{PROJECT}/locations/{PRIMARY}/connectors/shop-global-run",
    SECOND: f"projects/{PROJECT}/locations/{SECOND}/connectors/shop-global-run1",
}
OUTPUTS = {
    "network": {"network": "shop-global-vpc", "subnet": f"shop-global-{PRIMARY}"},
    "vpc_connector": CONNECTORS[PRIMARY],
    "vpc_connectors": CONNECTORS,
    "vpc_subnets": {r: f"shop-global-{r}" for r in (PRIMARY, SECOND)},
    "databases": {
        "main": {
            "private_ip": "10.20.0.3",
            "connection_name": f"{PROJECT}:{PRIMARY}:shop-global-main",
            "url_secret": "shop-global-DATABASE_URL_MAIN",
        }
    },
}


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
    cache = root / ".shipit" / "infra" / "global"
    cache.mkdir(parents=True)
    document = {"environment": "global", "project": PROJECT, "outputs": OUTPUTS}
    (cache / "outputs.json").write_text(json.dumps(document))
    health = HealthServer()
    yield Cli(root, fake_gcp_server, health)
    health.stop()


def test_deploy_in_two_regions_then_noop_then_status(cli: Cli) -> None:
    first = cli(*deploy_args(), "--json")
    assert first.returncode == 0, first.stderr
    result = first.json()["result"]
    assert set(result) == {"api", f"api@{SECOND}", "web", f"web@{SECOND}"}
    assert result[f"web@{SECOND}"]["region"] == SECOND

    services = set(cli.fake.run.services)
    for region in (PRIMARY, SECOND):
        assert f"projects/{PROJECT}/locations/{region}/services/web" in services
        web = service(cli, region, "web")
        # Behind the load balancer: only it (and the VPC) reach the service.
        assert web["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
        assert web["latestReadyRevision"] == web["latestCreatedRevision"]
        env = {e["name"]: e.get("value") for e in web["template"]["containers"][0]["env"]}
        # Each region's frontend talks to the API in its own region.
        assert env["API_URL"] == service(cli, region, "api")["uri"]
        api = service(cli, region, "api")
        assert api["ingress"] == "INGRESS_TRAFFIC_ALL"
        # The one database in the primary region, through this region's connector on the global VPC.
        assert api["template"]["vpcAccess"] == {"connector": CONNECTORS[region], "egress": "PRIVATE_RANGES_ONLY"}
        volumes = api["template"].get("volumes", [])
        instances = [v["cloudSqlInstance"]["instances"] for v in volumes if "cloudSqlInstance" in v]
        assert instances == [[f"{PROJECT}:{PRIMARY}:shop-global-main"]]
        api_env = {e["name"]: e for e in api["template"]["containers"][0]["env"]}
        assert api_env["DATABASE_URL"]["valueSource"]["secretKeyRef"]["secret"] == "shop-global-DATABASE_URL_MAIN"

    cli.fake.reset_calls()
    again = cli(*deploy_args())
    assert again.returncode == 0, again.stderr
    assert "no changes (4 unchanged)" in again.stdout
    assert cli.fake.mutating_calls() == []

    status = cli("-e", "global", "status", "--json")
    assert status.returncode == 0, status.stderr
    rows = {r["name"]: r for r in status.json()["services"]}
    assert set(rows) == {"api", f"api@{SECOND}", "web", f"web@{SECOND}"}
    assert rows[f"web@{SECOND}"]["image"] == image("web")
    assert rows[f"web@{SECOND}"]["url"] == service(cli, SECOND, "web")["uri"]
    assert all(r["drift"] == [] for r in rows.values())


def test_plan_lists_every_region(cli: Cli) -> None:
    plan = cli(*deploy_args(), "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "service web@us-central1" in plan.stdout
    assert f"service api@{SECOND}" in plan.stdout
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


def _foreign_services(monkeypatch: pytest.MonkeyPatch, cli: Cli) -> None:
    """In the second region: another environment's web and a hand-made service, both to survive destroy."""
    from shipit.adapters.gcp.clients import GcpClients
    from shipit.adapters.gcp.run import CloudRunClient

    for key, value in fake_server_env(cli.server.url).items():
        monkeypatch.setenv(key, value)
    run = CloudRunClient(GcpClients())
    container = {"containers": [{"image": image("web")}]}
    parent = f"projects/{PROJECT}/locations/{SECOND}"
    labels = {"managed-by": "shipit", "app": "shop", "env": "prod"}
    run.create_service(parent, "web-prod", {"labels": labels, "template": container})
    run.create_service(parent, "hand-made", {"template": container})


def _names(cli: Cli) -> set[str]:
    return {name.split("/locations/", 1)[1] for name in cli.fake.run.services}


def test_destroy_removes_the_service_in_every_region_and_only_ours(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli(*deploy_args()).returncode == 0
    _foreign_services(monkeypatch, cli)

    plan = cli("-e", "global", "destroy", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "Cloud Run service web@us-central1" in plan.stdout
    assert "web-prod" not in plan.stdout and "hand-made" not in plan.stdout

    result = cli("-e", "global", "destroy", "--yes")
    assert result.returncode == 0, result.stderr
    assert "deleted Cloud Run service web@us-central1" in result.stdout + result.stderr
    assert _names(cli) == {f"{SECOND}/services/web-prod", f"{SECOND}/services/hand-made"}


def test_destroy_interrupted_between_regions_finishes_when_run_again(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli(*deploy_args()).returncode == 0
    _foreign_services(monkeypatch, cli)
    foreign = {f"{SECOND}/services/web-prod", f"{SECOND}/services/hand-made"}
    ours = _names(cli) - foreign
    assert {n.split("/")[0] for n in ours} == {PRIMARY, SECOND}
    # From the third deletion on, Cloud Run refuses: the run stops with services left in both regions' list.
    cli.fake.faults.fail("run.projects.locations.services.delete", status=403, nth=3, times=None)
    first = cli("-e", "global", "destroy", "--yes")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "Traceback" not in first.stderr
    left = _names(cli) - foreign
    assert len(left) == len(ours) - 2 and left < ours

    cli.fake.faults.clear()
    again = cli("-e", "global", "destroy", "--yes")
    assert again.returncode == 0, again.stderr
    assert _names(cli) == {f"{SECOND}/services/web-prod", f"{SECOND}/services/hand-made"}


def test_a_preview_of_a_multi_region_environment_is_refused_before_any_call(cli: Cli) -> None:
    result = cli("-e", "global", "deploy", "--preview", "pr-7", "--yes", "--image", f"web={image('web')}")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "global deploys to 2 regions (europe-west1, us-central1); previews are single-region" in lines[0]
    assert "Traceback" not in result.stderr and "-e ENV" in result.stderr
    assert cli.fake.calls == []
