"""Step "workers": services with ``kind: worker`` as Cloud Run worker pools (see :mod:`.deploy`)."""

from __future__ import annotations

from shipit.steps.workers.deploy import STEP, WorkerFailed, apply, plan, status, worker_names
from shipit.steps.workers.rollout import apply_splits, plan_promote, plan_rollback, release_rollback, selected_workers

__all__ = [
    "STEP",
    "WorkerFailed",
    "apply",
    "apply_splits",
    "plan",
    "plan_promote",
    "plan_rollback",
    "release_rollback",
    "selected_workers",
    "status",
    "worker_names",
]
