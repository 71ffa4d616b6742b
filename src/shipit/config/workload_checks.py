"""Rules for workers (Cloud Run worker pools) and jobs: what Cloud Run cannot express for them."""

from __future__ import annotations

from collections.abc import Iterator

from shipit.config.models import ShipitConfig
from shipit.config.refs import ReferenceError_, parse_refs

Path_ = tuple[str | int, ...]
# cloud_run keys that only mean something for a request-serving service.
_HTTP_ONLY = (
    "min_instances",
    "max_instances",
    "concurrency",
    "timeout",
    "ingress",
    "allow_unauthenticated",
    "cpu_idle",
    "session_affinity",
)


def workload_problems(config: ShipitConfig) -> Iterator[tuple[Path_, str, str | None]]:
    """(path, message, hint) for every worker and job setting Cloud Run would reject or ignore."""
    from shipit.config.checks import _undefined

    services = config.services
    workers = {n for n, s in services.items() if s.kind == "worker"}
    for name, svc in services.items():
        base: Path_ = ("services", name)
        cr = svc.cloud_run
        if svc.kind != "worker":
            if cr.instances is not None:
                yield (*base, "cloud_run", "instances"), "instances is for workers", "add kind: worker, or remove it"
            continue
        if "port" in svc.model_fields_set:
            yield (*base, "port"), "a worker has no port (Cloud Run worker pools serve no requests)", "remove port"
        if "health" in svc.model_fields_set and svc.health.path is not None:
            yield (*base, "health"), "a worker has no URL to health-check", "remove health"
        for key in _HTTP_ONLY:
            if key in cr.model_fields_set:
                yield (
                    (*base, "cloud_run", key),
                    f"{key} is for HTTP services, not workers",
                    ("use cloud_run.instances for a worker's size" if key.endswith("instances") else f"remove {key}"),
                )
        if svc.secret_files:
            # gcloud refuses it too ("Secrets volume mount is not supported for Worker Pools yet").
            yield (
                (*base, "secret_files"),
                "worker pools cannot mount secrets as files",
                "list the key under secrets to read it from an environment variable",
            )
        # HTTP probes on a worker are reported by config/cloudrun_checks.py with the other probe rules.
        if cr.vpc is not None and cr.vpc.mode == "connector":
            yield (
                (*base, "cloud_run", "vpc", "mode"),
                "worker pools support Direct VPC egress only, not a VPC connector",
                "set vpc: {mode: direct}",
            )
    for name, svc in services.items():
        for var, value in svc.env.items():
            try:
                refs = parse_refs(value)
            except ReferenceError_:
                continue
            for ref in refs:
                if ref.kind == "services" and ref.name in workers and ref.attr == "url":
                    yield (
                        ("services", name, "env", var),
                        f"{ref}: '{ref.name}' is a worker, it has no URL",
                        ("send it work through Pub/Sub"),
                    )
    if config.pubsub:
        for sub_name, sub in config.pubsub.subscriptions.items():
            path: Path_ = ("pubsub", "subscriptions", sub_name)
            if sub.push and sub.push.service in workers:
                yield (
                    (*path, "push", "service"),
                    f"'{sub.push.service}' is a worker: it cannot receive pushes",
                    (f"use pull: {{service: {sub.push.service}}}"),
                )
            if sub.push and sub.pull:
                yield path, "a subscription is either push or pull", "remove push or pull"
            if sub.pull:
                if sub.pull.service not in services:
                    message, hint = _undefined("services", sub.pull.service, services)
                    yield (*path, "pull", "service"), message, hint
                elif sub.pull.service not in workers:
                    yield (
                        (*path, "pull", "service"),
                        f"'{sub.pull.service}' is not a worker",
                        (f"add kind: worker to services.{sub.pull.service}, or use push"),
                    )
    for job_name, job in config.jobs.items():
        base = ("jobs", job_name)
        sources = [k for k in ("service", "image") if getattr(job, k) is not None]
        if len(sources) != 1:
            yield base, "a job needs exactly one of service (its image) or image", "add service: NAME"
        if job.service is not None and job.service not in services:
            message, hint = _undefined("services", job.service, services)
            yield (*base, "service"), message, hint
        for i, db in enumerate(job.databases):
            if db not in config.databases:
                message, hint = _undefined("databases", db, config.databases)
                yield (*base, "databases", i), message, hint
        if job.image is not None and (job.secrets or job.databases):
            yield (
                (*base, "image"),
                ("a job with its own image runs as the default compute account, which is granted no secret"),
                "use service: NAME to run a service's image as its account",
            )
        if job.parallelism > job.tasks:
            yield (
                (*base, "parallelism"),
                f"parallelism ({job.parallelism}) is more than tasks ({job.tasks})",
                ("lower parallelism"),
            )
        if job.schedule is None and "time_zone" in job.model_fields_set:
            yield (*base, "time_zone"), "time_zone without a schedule", "add schedule: '0 3 * * *' or remove it"
