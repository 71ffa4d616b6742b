"""Rolling out one service's planned change for the services step (steps/services).

Safety: updates carry the etag read during planning (a concurrent change fails, never overwrites);
a new revision gets traffic only once Ready (Cloud Run's LATEST target only follows Ready revisions,
and when live traffic is pinned, the new revision is rolled out at 0% and traffic moves afterwards);
a failed revision leaves traffic where it was and exits 1 with the cause in plain words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipit.errors import ShipitError
from shipit.names import RELEASE_LABEL
from shipit.plan import Change, thaw_json
from shipit.render.cloudrun import LATEST, REVISION, health_path, kept_tags, settled_traffic
from shipit.steps.services.api import HealthResult, Json, RunApi
from shipit.steps.services.diff import creates_revision, short_revision, spec_diff, traffic_diff
from shipit.steps.services.failure import explain
from shipit.steps.services.inputs import Resolver, desired_service, with_release_labels
from shipit.steps.services.invokers import apply_change, change_for
from shipit.steps.services.shared import ServicePlan, location_parent

if TYPE_CHECKING:
    from shipit.adapters.gcp.run import WriteResult
    from shipit.steps.context import StepContext


@dataclass(frozen=True)
class ServiceResult:
    name: str
    action: str
    ok: bool
    url: str | None = None
    revision: str | None = None
    release: str | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class DeployFailed(ShipitError):
    """One or more services did not roll out; traffic stayed on their previous revisions."""


def serving_traffic(service: Json) -> list[Json]:
    """The live routing as REVISION targets, so pinning it keeps traffic exactly where it is."""
    latest_ready = short_revision(service.get("latestReadyRevision"))
    out: dict[str, int] = {}
    for status in service.get("trafficStatuses", []):
        percent = int(status.get("percent", 0))
        if not percent:
            continue
        revision = status.get("revision") or latest_ready
        if revision:
            out[revision] = out.get(revision, 0) + percent
    return [{"type": REVISION, "revision": r, "percent": p} for r, p in out.items()]


def _is_settled(traffic: list[Json]) -> bool:
    return traffic_diff(settled_traffic(), traffic) is None


def _tag_uri(service: Json, tag: str) -> str | None:
    for status in service.get("trafficStatuses", []):
        if status.get("tag") == tag:
            return str(status.get("uri") or "") or None
    return None


def write_traffic(api: RunApi, service: Json, traffic: list[Json]) -> WriteResult:
    """Change only the traffic split of a live service (same template: no new revision), etag-guarded."""
    spec_keys = ("name", "labels", "annotations", "ingress", "template")
    body = api.normalize({k: v for k, v in service.items() if k in spec_keys} | {"traffic": traffic})
    return api.update_service(body | {"etag": service.get("etag")})


class Rollout:
    """Apply one service's change: write, wait for Ready, optional health check, traffic, IAM.

    ``urls``: the services deployed so far (the waves before this one), for ``${services.X.url}``."""

    def __init__(
        self,
        ctx: StepContext,
        api: RunApi,
        change: Change,
        urls: Mapping[str, str],
        resolver: Callable[[], Resolver] | None = None,
    ) -> None:
        self.p: ServicePlan = change.payload
        self._resolver = resolver
        self.change = change
        self.ctx = ctx
        self.settings = self.p.settings
        self.api = api
        self.health = ctx.remote.health
        self.console = ctx.console
        self.options = self.settings.options
        self.target = ctx.target
        self.urls = urls
        self.service_cfg = self.target.config.services[self.p.name]
        self.live: Json | None = None if self.p.live is None else thaw_json(self.p.live)

    def unchanged(self) -> ServiceResult:
        return self._done(self.live or {}, "no-op")

    def _fail(self, message: str, action: str = "update") -> ServiceResult:
        return ServiceResult(self.p.name, action, False, message=message)

    def run(self) -> ServiceResult:
        p = self.p
        desired, live = thaw_json(p.desired), self.live
        spec_changed = p.spec_changed
        if p.pending_refs:
            # Re-render now that the services it refers to are deployed and have URLs.
            resolver = self._resolver() if self._resolver else Resolver(self.ctx, self.options, self.urls, set())
            spec, pending = desired_service(resolver, p.name, live)
            if pending:
                return self._fail(f"needs the URL of {', '.join(pending)}, which did not deploy", "skip")
            desired = self.api.normalize(with_release_labels(spec, self.settings.release_id, self.settings.git_sha))
            spec_changed = live is None or bool(spec_diff(desired, live)) or p.retry_failed
            if not spec_changed and not p.traffic_changed and not p.invokers:
                return self._done(live or {}, "no-op")
        if live is None:
            return self._create(desired)
        return self._update(desired, live, spec_changed)

    def _create(self, desired: Json) -> ServiceResult:
        self.console.info(f"{self.p.name}: creating the service")
        body = {**desired, "traffic": settled_traffic()}
        result = self.api.create_service(location_parent(self.target), self.p.name, body)
        service = result.service
        failure = self._failure(service, result.error, previous=None)
        if failure:
            return self._fail(failure, "create")
        return self._finish(service, "create")

    def _update(self, desired: Json, live: Json, spec_changed: bool) -> ServiceResult:
        if not spec_changed and not self.p.traffic_changed:
            return self._finish(live, "update")  # only the IAM policy differs
        # Only service-level fields (scaling, IAP, description...) changed: no revision to stage.
        new_revision = spec_changed and (self.p.retry_failed or creates_revision(spec_diff(desired, live)))
        staged = (self.options.staged or self.options.canary is not None) and new_revision
        pinned = serving_traffic(live)
        single = not staged and (_is_settled(live.get("traffic", [])) or not new_revision or not pinned)
        candidate = {"type": LATEST, "percent": 0, "tag": self.options.tag}
        tags = kept_tags(live.get("traffic", []), live.get("latestReadyRevision"))
        moved = [t for t in tags if t["tag"] != self.options.tag]
        traffic = settled_traffic(tags) if single else [*pinned, *moved, candidate]
        body = {**desired, "name": self.p.full_name, "etag": live.get("etag"), "traffic": traffic}
        previous = ", ".join(t["revision"] for t in pinned) or None
        if spec_changed:
            self.console.info(
                f"{self.p.name}: rolling out a new revision" + (" (no traffic yet)" if not single else "")
            )
        result = self.api.update_service(body)
        service = result.service
        if spec_changed:
            failure = self._failure(service, result.error, previous=previous)
            if failure:
                return self._fail(failure)
        elif result.error:
            return self._fail(f"update failed: {result.error}")
        if single:
            return self._finish(service, "update")
        if staged:
            verdict = self._health(service)
            if verdict is not None and not verdict.ok:
                restore = self._write_traffic(service, pinned)
                return self._fail(
                    f"health check of the new revision failed ({verdict.detail}); traffic "
                    f"{'stays on' if restore else 'could not be returned to'} {previous}"
                )
        if self.options.canary is not None and staged:
            final = self._canary_split(pinned, self.options.canary)
        elif staged:
            # Like `gcloud run deploy --no-traffic --tag` then a promotion: the tag stays on the new revision.
            final = settled_traffic(kept_tags(service.get("traffic", []), service.get("latestReadyRevision")))
        else:
            final = settled_traffic(moved)
        service = self._write_traffic(service, final) or service
        return self._finish(service, "update")

    def _canary_split(self, pinned: list[Json], percent: int) -> list[Json]:
        main = max(pinned, key=lambda t: int(t["percent"]))
        return [
            {"type": REVISION, "revision": main["revision"], "percent": 100 - percent},
            {"type": LATEST, "percent": percent, "tag": self.options.tag},
        ]

    def _health(self, service: Json) -> HealthResult | None:
        path = health_path(self.service_cfg)
        if path is None:
            return None
        uri = _tag_uri(service, self.options.tag)
        if uri is None:
            return HealthResult(False, f"no URL for tag {self.options.tag}")
        self.console.info(f"{self.p.name}: checking {uri}{path}")
        return self.health(uri, path, float(self.service_cfg.health.timeout))

    def _write_traffic(self, service: Json, traffic: list[Json]) -> Json | None:
        result = write_traffic(self.api, service, traffic)
        return None if result.error else result.service

    def _failure(self, service: Json, error: str | None, previous: str | None) -> str | None:
        created = service.get("latestCreatedRevision")
        ready = service.get("latestReadyRevision")
        if error is None and created and created == ready:
            return None
        revision = self.api.get_revision(created) if created else None
        if error is None and revision is None:
            return None
        cr = self.service_cfg.cloud_run
        containers = service.get("template", {}).get("containers", [{}])
        explained = explain(
            revision,
            port=self.service_cfg.port,
            image=containers[0].get("image", "?"),
            service_account=service.get("template", {}).get("serviceAccount") or cr.service_account,
            fallback=error,
        )
        where = f"traffic stays on {previous}" if previous else "the service serves no traffic"
        return f"{explained.render()} ({where})"

    def _finish(self, service: Json, action: str) -> ServiceResult:
        if self.p.invokers or action == "create":
            self._ensure_invokers()
        return self._done(service, action)

    def _done(self, service: Json, action: str) -> ServiceResult:
        uri = service.get("uri")
        labels = (service.get("template") or {}).get("labels") or {}
        return ServiceResult(
            self.p.name,
            action,
            True,
            url=uri,
            revision=short_revision(service.get("latestReadyRevision")) or None,
            release=labels.get(RELEASE_LABEL),
        )

    def _ensure_invokers(self) -> None:
        """Read-modify-write of the service's IAM policy (guarded by its etag), from the policy as it is now."""
        policy = self.api.get_iam_policy(self.p.full_name)
        change = change_for(self.target, self.p.name, policy)
        if not change:
            return
        self.api.set_iam_policy(self.p.full_name, apply_change(policy, change))
        self.console.info(f"{self.p.name}: {change.describe()}")
