"""`shipit infra bootstrap`: create the environment's state bucket (versioned, private), idempotently."""

from __future__ import annotations

from shipit.config.target import Target
from shipit.names import owner_labels
from shipit.plan import Action, Change, FieldDiff, Plan
from shipit.remote import Buckets

STEP = "infra.bootstrap"


def plan(target: Target, buckets: Buckets) -> Plan:
    if target.config.infra.backend == "local":
        return Plan.of(STEP, [], [f"{target.env_name} keeps its Terraform state locally (infra.backend: local)"])
    name = target.state_bucket
    resource = f"gs://{name}"
    bucket = buckets.get(name)
    if bucket is None:
        summary = f"in {target.region}, project {target.project}, versioned, uniform access, no public access"
        return Plan.of(STEP, [Change(STEP, Action.CREATE, resource, summary, payload="create")])
    if not bucket.versioning:
        diff = FieldDiff("versioning", "off", "on")
        return Plan.of(STEP, [Change(STEP, Action.UPDATE, resource, "", (diff,), payload="versioning")])
    notes = []
    if not bucket.uniform_access or bucket.public_access_prevention != "enforced":
        notes.append(f"{resource} does not enforce uniform access and public access prevention; consider enabling both")
    return Plan.of(STEP, [Change(STEP, Action.NOOP, resource, "exists, versioned")], notes)


def apply(target: Target, buckets: Buckets, plan: Plan) -> None:
    for change in plan.pending:
        if change.payload == "create":
            labels = owner_labels(target.app, target.env_name)
            buckets.create(target.state_bucket, project=target.project, location=target.region, labels=labels)
        elif change.payload == "versioning":
            buckets.enable_versioning(target.state_bucket)
