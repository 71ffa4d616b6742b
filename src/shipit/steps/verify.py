"""Verify a release: every service whose serving revision was not verified yet must answer its health
path on its live URL (its readiness probe's HTTP path when it has one, else ``health.path``).

Cloud Run already refuses traffic to a revision that never became Ready; this catches the revision
that starts but answers 5xx. A failed check rolls those services back to their previous ready
revisions (a service created by this release has none: it is reported, not removed) and fails the
deploy with exit 1.

Verified revisions are remembered in ``.shipit/verified/ENV.json``, so a rollout that was interrupted
after Cloud Run took it, but before its check, is checked by the next run even though that run has
nothing left to change. Where the record is missing (a fresh CI checkout), every service is checked:
a GET per service, no writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipit.errors import ShipitError
from shipit.plan import Plan
from shipit.render.cloudrun import health_path
from shipit.results import ServicesResult, VerifyResult
from shipit.steps.context import StepContext
from shipit.steps.resolver import earlier

STEP = "verify"


class HealthCheckFailed(ShipitError):
    pass


def plan(ctx: StepContext) -> Plan:
    paths = {n: p for n, s in ctx.target.config.services.items() if s.kind == "service" and (p := health_path(s))}
    if not paths:
        return Plan.of(STEP, (), ["no health paths configured (services.X.health.path)"])
    listed = ", ".join(f"{n} {p}" for n, p in sorted(paths.items()))
    return Plan.of(STEP, (), [f"after the release, checks {listed} on each changed service"])


def _record_path(ctx: StepContext) -> Path:
    return ctx.target.root / ".shipit" / "verified" / f"{ctx.target.env_name}.json"


def _verified(ctx: StepContext) -> dict[str, str]:
    try:
        data = json.loads(_record_path(ctx).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _remember(ctx: StepContext, verified: dict[str, str]) -> None:
    path = _record_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(verified, indent=2, sort_keys=True) + "\n")


def apply(ctx: StepContext, plan: Plan) -> VerifyResult:
    check = ctx.remote.health
    services = earlier(ctx, ServicesResult)
    deployed: Mapping[str, Mapping[str, Any]] = services.services if services is not None else {}
    verified = _verified(ctx)
    changed = {
        n: r
        for n, r in deployed.items()
        if r.get("ok") and (r.get("action") in ("create", "update") or verified.get(n) != r.get("revision"))
    }
    results: dict[str, Any] = {}
    failures: list[str] = []
    from shipit.steps.services import lb_services, split_key

    fronted = lb_services(ctx.target)
    for name, result in sorted(changed.items()):
        service = split_key(name)[0]  # api@us-central1: api in another region of a multi-region environment
        health = ctx.target.config.services[service].health
        path = health_path(ctx.target.config.services[service])
        url = result.get("url")
        if not path or not url:
            continue
        if service in fronted:
            # Its run.app URL refuses outside requests (ingress internal-and-cloud-load-balancing): Cloud Run
            # readiness in each region is the check; the load balancer serves only Ready revisions.
            ctx.console.info(f"{name}: behind the load balancer, checked by Cloud Run readiness only")
            continue
        outcome = check(str(url), path, float(health.timeout))
        results[name] = {"ok": outcome.ok, "detail": outcome.detail}
        ctx.console.event("health", service=name, ok=outcome.ok, detail=outcome.detail)
        if outcome.ok:
            ctx.console.success(f"{name}: {url}{path} answered {outcome.detail}")
            if result.get("revision"):
                verified[name] = str(result["revision"])
        else:
            failures.append(f"{name}: GET {path} -> {outcome.detail}")
            verified.pop(name, None)
    _remember(ctx, verified)
    if failures:
        rolled = _roll_back(ctx, changed)
        raise HealthCheckFailed(
            "health check failed: " + "; ".join(failures) + rolled, hint="see the service logs; fix and deploy again"
        )
    return VerifyResult(results)


def _roll_back(ctx: StepContext, changed: Mapping[str, Mapping[str, Any]]) -> str:
    # Every checked service that existed before this run goes back (also one whose interrupted rollout
    # this run found unverified); a service created now has no earlier revision.
    from shipit.steps.services import apply_traffic, plan_rollback, split_key

    # A multi-region service goes back in every region it runs in, so the regions stay on one release.
    updated = sorted({split_key(n)[0] for n, r in changed.items() if r.get("action") != "create"})
    created = sorted({split_key(n)[0] for n, r in changed.items() if r.get("action") == "create"} - set(updated))
    parts = []
    if updated:
        try:
            rollback = plan_rollback(ctx, updated)
            apply_traffic(ctx, rollback)
            parts.append("traffic rolled back for " + ", ".join(updated))
        except ShipitError as exc:
            parts.append(f"rollback failed: {exc.render()}")
    if created:
        parts.append("new service(s) " + ", ".join(created) + " have no earlier revision to roll back to")
    return " (" + "; ".join(parts) + ")" if parts else ""
