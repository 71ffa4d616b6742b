"""Step "workers": services with ``kind: worker`` as Cloud Run worker pools (see :mod:`.deploy`)."""

from __future__ import annotations

from shipit.steps.workers.deploy import STEP, WorkerFailed, apply, plan, status, worker_names

__all__ = ["STEP", "WorkerFailed", "apply", "plan", "status", "worker_names"]
