"""`shipit promote` and `shipit rollback WORKER` on a worker pool, as a user runs them (subprocesses
against fakegcp's HTTP server): only the instance split moves."""

from __future__ import annotations

from e2e.deploy.conftest import CONFIG, PARENT, Cli, image

POOL = f"{PARENT}/workerPools/worker"
WORKER = "  worker:\n    kind: worker\n    env: {MODE: batch}\n"


def _deploy(cli: Cli, letter: str, *extra: str) -> None:
    result = cli("deploy", "--only", "workers", "--yes", "--image", f"worker={image('worker', letter)}", *extra)
    assert result.returncode == 0, result.stderr


def test_promote_and_rollback_a_worker(cli: Cli) -> None:
    (cli.root / "shipit.yaml").write_text(CONFIG + WORKER)
    _deploy(cli, "a")
    _deploy(cli, "b", "--canary", "20")
    first, second = cli.fake.run.worker_pools.revision_names(POOL)
    splits = cli.fake.run.worker_pools.pools[POOL]["instanceSplits"]
    assert sorted(s["percent"] for s in splits) == [20, 80]

    dry = cli("promote", "worker", "--dry-run")
    assert dry.returncode == 0 and "worker worker" in dry.stdout, dry.stdout + dry.stderr
    assert cli.fake.run.worker_pools.pools[POOL]["instanceSplits"] == splits

    promote = cli("promote", "--yes")
    assert promote.returncode == 0, promote.stderr
    assert cli.fake.run.worker_pools.pools[POOL]["instanceSplits"] == [
        {"type": "INSTANCE_SPLIT_ALLOCATION_TYPE_LATEST", "percent": 100}
    ]

    rollback = cli("rollback", "worker", "--yes")
    assert rollback.returncode == 0, rollback.stderr
    pinned = {"type": "INSTANCE_SPLIT_ALLOCATION_TYPE_REVISION", "percent": 100}
    assert cli.fake.run.worker_pools.pools[POOL]["instanceSplits"] == [pinned | {"revision": first}]

    # --to alone: the revision's name says it is the worker's
    back = cli("rollback", "--to", second, "--yes")
    assert back.returncode == 0, back.stderr
    assert cli.fake.run.worker_pools.pools[POOL]["instanceSplits"] == [pinned | {"revision": second}]
    assert cli.fake.run.worker_pools.revision_names(POOL) == [first, second]

    unknown = cli("rollback", "worker", "--to", "worker-00042-xyz", "--yes")
    assert unknown.returncode == 2 and first in unknown.stderr and "Traceback" not in unknown.stderr
