"""`shipit rollback` with no name after `shipit deploy` of services and workers, as a user runs it
(subprocesses against fakegcp's HTTP server): one deploy is one release, so its services and worker pools
go back together; a worker the last release did not change stays where it is."""

from __future__ import annotations

from typing import Any

from e2e.deploy.conftest import CONFIG, PARENT, Cli, image

WORKERS = "  worker:\n    kind: worker\n    env: {MODE: batch}\n  cron:\n    kind: worker\n"
PINNED = "INSTANCE_SPLIT_ALLOCATION_TYPE_REVISION"


def _deploy(cli: Cli, api: str, web: str, worker: str, cron: str) -> None:
    images = {"api": api, "web": web, "worker": worker, "cron": cron}
    args = [a for n, letter in images.items() for a in ("--image", f"{n}={image(n, letter)}")]
    result = cli("deploy", "--only", "services,workers", "--yes", *args)
    assert result.returncode == 0, result.stdout + result.stderr


def _pool(cli: Cli, name: str) -> dict[str, Any]:
    return cli.fake.run.worker_pools.pools[f"{PARENT}/workerPools/{name}"]  # type: ignore[no-any-return]


def _release(revision: dict[str, Any]) -> str:
    return str(revision["labels"]["shipit-release"])


def _revisions(cli: Cli, kind: str, name: str) -> list[dict[str, Any]]:
    """The revisions of a service or worker pool in the fake, oldest first."""
    owner = f"{PARENT}/{kind}/{name}"
    if kind == "workerPools":
        return [r for r in cli.fake.run.worker_pools.revisions.values() if r["_pool"] == owner]
    return [r for r in cli.fake.run.revisions.values() if r["_service"] == owner]


def test_rollback_moves_the_services_and_workers_of_the_last_deploy_back(cli: Cli) -> None:
    (cli.root / "shipit.yaml").write_text(CONFIG + WORKERS)
    _deploy(cli, "a", "a", "a", "a")
    _deploy(cli, "b", "b", "b", "a")

    api, web = _revisions(cli, "services", "api"), _revisions(cli, "services", "web")
    worker, cron = _revisions(cli, "workerPools", "worker"), _revisions(cli, "workerPools", "cron")
    assert (len(api), len(web), len(worker), len(cron)) == (2, 2, 2, 1)
    # One deploy, one release id: on every service and worker pool it changed.
    first, second = _release(api[0]), _release(api[1])
    assert first < second
    assert {_release(web[0]), _release(worker[0]), _release(cron[0])} == {first}
    assert {_release(web[1]), _release(worker[1])} == {second}
    cron_splits = _pool(cli, "cron")["instanceSplits"]

    cli.fake.reset_calls()
    dry = cli("rollback", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"rolling back release {second}" in dry.stdout
    assert "service api" in dry.stdout and "worker worker" in dry.stdout and "worker cron" not in dry.stdout
    assert cli.fake.mutating_calls() == []

    cli.fake.reset_calls()
    done = cli("rollback", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    # Only traffic and instance splits moved: no revision was created.
    assert [c.method_id for c in cli.fake.mutating_calls()].count("run.projects.locations.workerPools.patch") == 1
    assert len(_revisions(cli, "workerPools", "worker")) == 2 and len(_revisions(cli, "services", "api")) == 2
    short = {n: revs[0]["name"].rsplit("/", 1)[-1] for n, revs in (("api", api), ("web", web), ("worker", worker))}
    assert cli.service("api")["trafficStatuses"][0]["revision"] == short["api"]
    assert cli.service("web")["trafficStatuses"][0]["revision"] == short["web"]
    assert _pool(cli, "worker")["instanceSplits"] == [{"type": PINNED, "revision": short["worker"], "percent": 100}]
    assert _pool(cli, "cron")["instanceSplits"] == cron_splits

    status = cli("status", "--json")
    assert status.returncode == 0, status.stderr
    data = status.json()
    pools = {w["name"]: w for w in data["workers"]}
    assert short["worker"] in str(pools["worker"]["splits"])
    rows = {r["name"]: r for r in data["services"]}
    assert short["api"] in str(rows["api"])


def test_rollback_of_a_release_with_only_workers_leaves_the_services(cli: Cli) -> None:
    (cli.root / "shipit.yaml").write_text(CONFIG + WORKERS)
    _deploy(cli, "a", "a", "a", "a")
    _deploy(cli, "b", "b", "a", "a")
    _deploy(cli, "b", "b", "b", "a")
    api_traffic = cli.service("api")["traffic"]

    done = cli("rollback", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert cli.service("api")["traffic"] == api_traffic
    first = _revisions(cli, "workerPools", "worker")[0]["name"].rsplit("/", 1)[-1]
    assert _pool(cli, "worker")["instanceSplits"] == [{"type": PINNED, "revision": first, "percent": 100}]


def test_rollback_with_nothing_deployed_says_so(cli: Cli) -> None:
    (cli.root / "shipit.yaml").write_text(CONFIG + WORKERS)
    result = cli("rollback", "--yes")
    assert result.returncode == 1
    assert "no service or worker was deployed" in result.stderr and "Traceback" not in result.stderr
