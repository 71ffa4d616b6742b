"""Step "services": the Cloud Run services, from shipit.yaml to Ready revisions serving traffic.

The package is the step. Its modules, by role:

- ``inputs``    each service's inputs (images, secret versions, Terraform outputs, URLs) and desired spec
- ``diff``      field-by-field diff of a desired service against the live one
- ``deploy``    plan() and apply(): the step as the pipeline runs it
- ``rollout``   one service's rollout: write, wait for Ready, move traffic, roll back on failure
- ``traffic``   rollback, promote and status
- ``invokers``  ``roles/run.invoker`` bindings the services need (Pub/Sub push)
- ``failure``   why a revision failed, in words a user can act on
- ``regions``   multi-region environments: the step once per region, the primary first
- ``api``       the Cloud Run operations the step needs (a Protocol), health checks
- ``shared``    options and per-run state the modules above share

Other steps (migrate, verify, workers, jobs) and the CLI use only the names exported here: the resolver
of a workload's inputs, the field diff and the release labels are shared with the workers and jobs steps.
"""

from __future__ import annotations

from shipit.steps.services.api import HealthChecker, HealthResult, OfflineRun, RunApi, http_health_check
from shipit.steps.services.deploy import LIST_FROM, STEP, referenced_services
from shipit.steps.services.diff import creates_revision, short_revision, spec_diff
from shipit.steps.services.inputs import Resolver, resolve_inputs, with_release_labels
from shipit.steps.services.regions import (
    apply,
    apply_traffic,
    lb_services,
    plan,
    plan_promote,
    plan_rollback,
    release_rollback,
    split_key,
    status,
)
from shipit.steps.services.rollout import DeployFailed
from shipit.steps.services.shared import DeployOptions, location_parent
from shipit.steps.services.traffic import ServiceStatus

__all__ = [
    "LIST_FROM",
    "STEP",
    "DeployFailed",
    "DeployOptions",
    "HealthChecker",
    "HealthResult",
    "OfflineRun",
    "Resolver",
    "RunApi",
    "ServiceStatus",
    "apply",
    "apply_traffic",
    "creates_revision",
    "http_health_check",
    "lb_services",
    "location_parent",
    "plan",
    "plan_promote",
    "plan_rollback",
    "referenced_services",
    "release_rollback",
    "resolve_inputs",
    "short_revision",
    "spec_diff",
    "split_key",
    "status",
    "with_release_labels",
]
