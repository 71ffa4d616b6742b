"""An environment as shipit leaves it after deploys, in the HTTP fake (in-process), plus foreign resources."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.deploy.conftest import PARENT, PROJECT, Project, image
from fakegcp import FakeGCP
from fakegcp.fixtures import fake_gcp, fake_gcp_mock

__all__ = ["fake_gcp", "fake_gcp_mock"]

OURS = {"app": "acme", "env": "staging", "managed-by": "shipit"}
SERVICES = "api:\n  env: {LOG_LEVEL: info}\nweb:\n  env: {LOG_LEVEL: info}\n"
REPOSITORY = f"projects/{PROJECT}/locations/us-central1/repositories/acme"


def _job_spec(labels: dict[str, str]) -> dict[str, object]:
    return {"labels": labels, "template": {"template": {"containers": [{"image": image("api"), "args": ["cleanup"]}]}}}


@dataclass
class Estate:
    project: Project
    fake: FakeGCP

    def names(self, kind: str) -> set[str]:
        store = {
            "services": self.fake.run.services,
            "jobs": self.fake.run.jobs.jobs,
            "pools": self.fake.run.worker_pools.pools,
        }[kind]
        return {name.rsplit("/", 1)[-1] for name, body in store.items() if not body.get("deleteTime")}

    def secrets(self) -> set[str]:
        return {name.rsplit("/", 1)[-1] for name in self.fake.secrets.secrets}

    def writes(self) -> list[str]:
        return [c.method_id or "" for c in self.fake.mutating_calls()]


@pytest.fixture
def estate(tmp_path: Path, fake_gcp_mock: FakeGCP, gcp_token: str, monkeypatch: pytest.MonkeyPatch) -> Estate:
    """staging of app acme: two services deployed by shipit, a job, a worker pool, two secrets shipit made
    and its repository; foreign: a service of another app, one with no labels, prod's job and a secret of
    another app, all in the same project and region."""
    from shipit.adapters.gcp.clients import GcpClients
    from shipit.adapters.gcp.jobs import CloudRunJobs
    from shipit.adapters.gcp.run import CloudRunClient
    from shipit.adapters.gcp.workerpools import WorkerPoolClient

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    project = Project(tmp_path, fake_gcp_mock)
    project.write(SERVICES)
    project.deploy({"api": image("api"), "web": image("web")})
    clients = GcpClients()
    run = CloudRunClient(clients)
    container = {"containers": [{"image": image("other")}]}
    run.create_service(PARENT, "other-app", {"labels": {**OURS, "app": "other"}, "template": container})
    run.create_service(PARENT, "hand-made", {"template": container})
    jobs = CloudRunJobs(clients)
    jobs.create_job(PARENT, "cleanup", _job_spec(OURS))
    jobs.create_job(PARENT, "prod-cleanup", _job_spec({**OURS, "env": "prod"}))
    WorkerPoolClient(clients).create_worker_pool(PARENT, "queue", {"labels": OURS, "template": container})
    fake = fake_gcp_mock
    fake.secrets.seed(PROJECT, "acme-staging-STRIPE_KEY", "sk_1", labels=OURS)
    fake.secrets.seed(PROJECT, "acme-staging-OLD_KEY", "old", labels=OURS)
    fake.secrets.seed(PROJECT, "other-staging-STRIPE_KEY", "sk_2", labels={**OURS, "app": "other"})
    fake.artifacts.add_repository(REPOSITORY, labels=OURS)
    fake.reset_calls()
    return Estate(project, fake)
