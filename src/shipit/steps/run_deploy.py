"""Step "run_deploy": create or update every Cloud Run service from shipit.yaml, safely.

Inputs (all optional, so the step also works on its own with explicit options):
  ctx.options.images           (("api", "HOST/P/R/api@sha256:..."), ...) given on the command line
  ctx.results["push"]          {service: "HOST/PROJECT/REPO/SERVICE@sha256:..."} from the push step
  ctx.results["secrets"]       {KEY: "projects/P/secrets/ID/versions/N"} from the secrets step; env vars
                               and files from secrets are pinned to exactly these versions
  ctx.results["infra"]         terraform outputs:
      service_accounts           {service: email}        runtime identity (default: config, else the
                                                          project's default compute account)
      vpc_connector              "projects/P/locations/R/connectors/NAME"
      vpc_network, vpc_subnetwork  for Direct VPC egress (cloud_run.vpc.mode: direct)
      database_connection_names  {db: "P:R:INSTANCE"}    mounted as Cloud SQL instances
      database_url_secrets       {db: secret id}         DATABASE_URL (db.env_var) comes from it
Without infra outputs: no VPC access and the default service account, each said in the plan notes.
An image not given keeps the live service's image; a secret version not given keeps the live one
(else "latest", noted).

Output: apply() returns {service: {"action", "url", "revision", "release"}} (also the pipeline's
ctx.results["run_deploy"]).

Safety: updates carry the etag read during planning (a concurrent change fails, never overwrites);
a new revision gets traffic only once Ready (Cloud Run's LATEST target only follows Ready revisions,
and when live traffic is pinned, the new revision is rolled out at 0% and traffic moves afterwards);
a failed revision leaves traffic where it was and exits 1 with the cause in plain words.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from shipit.concurrency import bounded_map
from shipit.config.checks import deploy_order
from shipit.config.models import Service
from shipit.config.refs import Reference, parse_refs, substitute
from shipit.errors import RemoteError, ShipitError, UsageError
from shipit.plan import Action, Change, FieldDiff, Plan
from shipit.render.cloudrun import (
    GIT_SHA_LABEL,
    LATEST,
    MANAGED_BY,
    RELEASE_LABEL,
    REVISION,
    RenderError,
    SecretRef,
    ServiceInputs,
    VpcAccess,
    render_service,
    settled_traffic,
)
from shipit.steps.infra_outputs import deploy_inputs, outputs_pending
from shipit.steps.run_api import HealthChecker, HealthResult, Json, OfflineRun, RunApi, http_health_check
from shipit.steps.run_diff import short_revision, spec_diff, traffic_diff
from shipit.steps.run_failure import explain
from shipit.steps.run_invokers import InvokerChange, apply_change, change_for

if TYPE_CHECKING:
    from shipit.adapters.gcp.run import WriteResult
    from shipit.config import Target
    from shipit.steps.context import StepContext

STEP = "run_deploy"
DEFAULT_TAG = "candidate"
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class DeployOptions:
    """What `shipit services deploy` adds to the step's usual inputs."""

    services: tuple[str, ...] = ()  # empty: every service
    secret_versions: tuple[tuple[str, str], ...] = ()  # (KEY, "N" or a full version name)
    staged: bool = False  # no traffic under a tag, health check, then move traffic
    canary: int | None = None  # staged, then only this percent; `shipit promote` moves the rest
    tag: str = DEFAULT_TAG
    release_id: str | None = None
    git_sha: str | None = None
    health_checker: HealthChecker | None = None


# -- planning ----------------------------------------------------------------------------------------


@dataclass
class _Shared:
    """State shared by every service of one run (the plan payloads point at it)."""

    ctx: StepContext
    api: RunApi
    options: DeployOptions
    release_id: str
    git_sha: str
    waves: list[list[str]]
    urls: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class ServicePlan:
    """Payload of one service's Change: what apply() needs."""

    name: str
    full_name: str
    live: Json | None
    policy: Json | None
    desired: Json  # spec without traffic, normalized; labels carry this run's release when changed
    spec_changed: bool
    traffic_changed: bool
    invokers: InvokerChange  # managed members of roles/run.invoker to add or remove
    retry_failed: bool
    pending_refs: tuple[str, ...]  # services whose URL is not known yet
    shared: _Shared


def _parent(target: Target) -> str:
    return f"projects/{target.project}/locations/{target.region}"


def full_name(target: Target, service: str) -> str:
    return f"{_parent(target)}/services/{service}"


def _api(ctx: StepContext) -> RunApi:
    from shipit.adapters.gcp.run import CloudRunClient

    return CloudRunClient(ctx.clients)


def _images(ctx: StepContext) -> dict[str, str]:
    images = dict(ctx.results.get("push") or {})
    images.update(dict(ctx.options.images))
    return images


def _version_of(value: str) -> str:
    return value.rsplit("/", 1)[-1] if "/versions/" in value else value


def _live_secret_versions(live: Json | None) -> dict[str, str]:
    """secret id -> version the live service pins (env vars and mounted files)."""
    out: dict[str, str] = {}
    if not live:
        return out
    template = live.get("template", {})
    for container in template.get("containers", []):
        for env in container.get("env", []):
            ref = (env.get("valueSource") or {}).get("secretKeyRef")
            if ref:
                out[ref["secret"].rsplit("/", 1)[-1]] = str(ref.get("version", "latest"))
    for volume in template.get("volumes", []):
        secret = volume.get("secret")
        for item in (secret or {}).get("items", []):
            out[secret["secret"].rsplit("/", 1)[-1]] = str(item.get("version", "latest"))
    return out


class _Resolver:
    """Turns config + step results into ServiceInputs for one service, collecting plan notes."""

    def __init__(self, shared: _Shared, notes: set[str]) -> None:
        self.shared = shared
        self.target = shared.ctx.target
        raw_infra: Mapping[str, Any] = shared.ctx.results.get("infra") or {}
        self.infra: Mapping[str, Any] = deploy_inputs(raw_infra)
        self.infra_pending = outputs_pending(raw_infra)
        self.synced: Mapping[str, str] = shared.ctx.results.get("secrets") or {}
        self.explicit = dict(shared.options.secret_versions)
        self.images = _images(shared.ctx)
        self.notes = notes

    def _no_output(self, name: str, note: str) -> None:
        if self.infra_pending:
            # The infra step will apply first and this step is re-planned with its outputs.
            self.notes.add(
                f"{name}: service account and VPC access come from Terraform outputs, known after infra applies"
            )
        else:
            self.notes.add(note)

    def _secret(self, key: str, secret_id: str, live_versions: Mapping[str, str]) -> SecretRef:
        if key in self.explicit:
            return SecretRef(secret_id, _version_of(self.explicit[key]))
        for synced_key, version_name in self.synced.items():
            if synced_key == key or f"/secrets/{secret_id}/" in version_name:
                return SecretRef(secret_id, _version_of(version_name))
        if secret_id in live_versions:
            return SecretRef(secret_id, live_versions[secret_id])
        self.notes.add(f"{key}: no synced version known, the service reads 'latest' (run the secrets step to pin it)")
        return SecretRef(secret_id, "latest")

    def _ref(self, name: str, ref: Reference, pending: list[str]) -> str:
        t = self.target
        if ref.kind == "services":
            if ref.attr == "name":
                return ref.name
            url = self.shared.urls.get(ref.name)
            if url is None:
                pending.append(ref.name)
                return f"(URL of {ref.name}, known after it deploys)"
            return url
        if ref.kind == "environment":
            return {"name": t.env_name, "project": t.project, "region": t.region}[ref.attr]
        if ref.kind == "app":
            return t.app
        if ref.kind == "env":
            return os.environ.get(ref.name, "")
        db = t.config.databases[ref.name]
        if ref.attr == "url":
            raise UsageError(
                f"services.{name}.env: {ref} would put a database password into a plain variable",
                hint=f"list the database under services.{name}.databases to get {db.env_var} as a secret",
            )
        hosts = self.infra.get("database_private_ips") or {}
        return {
            "host": str(hosts.get(ref.name, "")),
            "port": "5432",
            "name": db.name or ref.name,
            "user": db.user or "app",
        }[ref.attr]

    def inputs(self, name: str, service: Service, live: Json | None) -> tuple[ServiceInputs, list[str]]:
        cr = service.cloud_run
        live_versions = _live_secret_versions(live)
        pending: list[str] = []

        def resolve(ref: Reference) -> str:
            return self._ref(name, ref, pending)

        env = {k: substitute(v, resolve) for k, v in service.env.items()}
        secret_env = {key: self._secret(key, self.target.secret_id(key), live_versions) for key in service.secrets}
        url_secrets = self.infra.get("database_url_secrets") or {}
        for db_name in service.databases:
            db = self.target.config.databases[db_name]
            secret_id = str(url_secrets.get(db_name) or self.target.secret_id(db.env_var))
            pinned = (self.infra.get("database_url_versions") or {}).get(db_name)
            secret_env[db.env_var] = (
                SecretRef(secret_id, _version_of(str(pinned)))
                if pinned and db.env_var not in self.explicit
                else self._secret(db.env_var, secret_id, live_versions)
            )
        files = {
            path: self._secret(key, self.target.secret_id(key), live_versions)
            for path, key in service.secret_files.items()
        }
        image = self.images.get(name)
        if image is None and live is not None:
            containers = live.get("template", {}).get("containers", [{}])
            image = containers[0].get("image")
            self.notes.add(f"{name}: no new image given, keeping the deployed one")
        if image is None:
            raise UsageError(
                f"no image for service {name}, which is not deployed yet",
                hint=f"pass --image {name}=REGION-docker.pkg.dev/PROJECT/REPO/{name}@sha256:...",
            )
        if "@sha256:" not in image:
            self.notes.add(f"{name}: image {image} is not pinned by digest")
        accounts = self.infra.get("service_accounts") or {}
        account = cr.service_account or accounts.get(name)
        if account is None:
            self._no_output(
                name, f"{name}: runs as the default compute service account (no infra output service_accounts)"
            )
        vpc = self._vpc(name, service)
        conns = self.infra.get("database_connection_names") or {}
        cloudsql = tuple(str(conns[d]) for d in service.databases if d in conns)
        labels = {**cr.labels, MANAGED_BY: "shipit"}
        return (
            ServiceInputs(
                image=image,
                env=env,
                secret_env=secret_env,
                secret_files=files,
                service_account=account,
                vpc=vpc,
                cloudsql_instances=cloudsql,
                labels=labels,
            ),
            sorted(set(pending)),
        )

    def _vpc(self, name: str, service: Service) -> VpcAccess | None:
        vpc = service.cloud_run.vpc
        if vpc is None and not service.databases:
            return None
        mode = vpc.mode if vpc else "connector"
        egress = vpc.egress if vpc else "private-ranges-only"
        if mode == "connector":
            connector = self.infra.get("vpc_connector")
            if not connector:
                self._no_output(
                    name, f"{name}: no VPC connector known (infra output vpc_connector), deployed without VPC access"
                )
                return None
            return VpcAccess(egress=egress, connector=str(connector))
        network, subnet = self.infra.get("vpc_network"), self.infra.get("vpc_subnetwork")
        if not network and not subnet:
            self._no_output(
                name, f"{name}: no VPC network known (infra outputs vpc_network/vpc_subnetwork), no Direct VPC"
            )
            return None
        return VpcAccess(egress=egress, network=str(network or "") or None, subnetwork=str(subnet or "") or None)


def resolve_inputs(
    ctx: StepContext, name: str, live: Json | None, urls: Mapping[str, str], notes: set[str]
) -> tuple[ServiceInputs, list[str]]:
    """A service's inputs exactly as this step resolves them (image, pinned secrets, infra outputs, URLs),
    for the migration job and the local parity check. Makes no call: live state comes in as arguments."""
    shared = _Shared(
        ctx=ctx, api=OfflineRun(), options=DeployOptions(), release_id="", git_sha="", waves=[], urls=dict(urls)
    )
    return _Resolver(shared, notes).inputs(name, ctx.target.config.services[name], live)


def _with_labels(spec: Json, release: str, sha: str) -> Json:
    out = {**spec, "labels": {**spec.get("labels", {}), RELEASE_LABEL: release, GIT_SHA_LABEL: sha}}
    template = dict(out["template"])
    template["labels"] = {**template.get("labels", {}), RELEASE_LABEL: release, GIT_SHA_LABEL: sha}
    out["template"] = template
    return out


def _live_labels(live: Json | None) -> tuple[str, str] | None:
    labels = ((live or {}).get("template") or {}).get("labels") or {}
    if RELEASE_LABEL in labels and GIT_SHA_LABEL in labels:
        return labels[RELEASE_LABEL], labels[GIT_SHA_LABEL]
    return None


def _latest_failed(live: Json | None) -> bool:
    if not live:
        return False
    created, ready = live.get("latestCreatedRevision"), live.get("latestReadyRevision")
    return bool(created) and created != ready


def _desired(shared: _Shared, resolver: _Resolver, name: str, live: Json | None) -> tuple[Json, list[str]]:
    target = shared.ctx.target
    service = target.config.services[name]
    inputs, pending = resolver.inputs(name, service, live)
    try:
        spec = render_service(service, inputs)
    except RenderError as exc:
        raise UsageError(f"services.{name}.{exc}", hint=f"edit {target.config_file}") from None
    return spec, pending


def _plan_service(shared: _Shared, resolver: _Resolver, name: str, live: Json | None, policy: Json | None) -> Change:
    target = shared.ctx.target
    spec, pending = _desired(shared, resolver, name, live)
    previous = _live_labels(live)
    labelled = _with_labels(spec, *(previous or (shared.release_id, shared.git_sha)))
    desired = shared.api.normalize(labelled)
    diffs: list[FieldDiff] = [] if live is None else spec_diff(desired, live)
    retry_failed = not diffs and _latest_failed(live)
    spec_changed = live is None or bool(diffs) or retry_failed
    if spec_changed and previous is not None:
        desired = shared.api.normalize(_with_labels(spec, shared.release_id, shared.git_sha))
    t_diff = None if live is None else traffic_diff(settled_traffic(), live.get("traffic", []))
    # An existing service whose policy could not be read: add what is missing, never remove blindly.
    invokers = change_for(target, name, policy, removals=live is None or policy is not None)
    all_diffs = list(diffs)
    if retry_failed and live is not None:
        all_diffs.append(
            FieldDiff("revision", short_revision(live.get("latestCreatedRevision")) + " (failed)", "a new revision")
        )
    if t_diff is not None:
        all_diffs.append(t_diff)
    all_diffs.extend(invokers.diffs())
    payload = ServicePlan(
        name=name,
        full_name=full_name(target, name),
        live=live,
        policy=policy,
        desired=desired,
        spec_changed=spec_changed,
        traffic_changed=t_diff is not None,
        invokers=invokers,
        retry_failed=retry_failed,
        pending_refs=tuple(pending),
        shared=shared,
    )
    if live is None:
        summary = "new service" + (f" ({invokers.audience()})" if invokers else "")
        if pending:
            summary += f", after {', '.join(pending)}"
        return Change(STEP, Action.CREATE, f"service {name}", summary, (), payload)
    if not all_diffs and not pending:
        return Change(STEP, Action.NOOP, f"service {name}", "", (), payload)
    summary = "new revision" if spec_changed else "no new revision"
    if pending:
        summary += f", after {', '.join(pending)}"
    return Change(STEP, Action.UPDATE, f"service {name}", summary, tuple(all_diffs), payload)


def _selected(target: Target, services: Iterable[str]) -> list[str]:
    names = list(services)
    known = list(target.config.services)
    for name in names:
        if name not in known:
            from shipit.config.checks import did_you_mean

            raise UsageError(
                f"service '{name}' is not defined in {target.config_file}",
                hint=did_you_mean(name, known) or f"defined: {', '.join(known)}",
            )
    return names or known


def _parallel(fn: Callable[[K], V], items: list[K], workers: int) -> dict[K, V]:
    """fn over items, at most ``workers`` at a time; results keyed by item, exceptions re-raised."""
    return dict(zip(items, bounded_map(fn, items, workers, name="run"), strict=True))


def plan(ctx: StepContext, options: DeployOptions | None = None, *, api: RunApi | None = None) -> Plan:
    """Read every selected service (and its IAM policy), render the desired ones, diff. No writes."""
    from shipit.steps.release import git_sha, new_release_id

    options = options or DeployOptions(staged=ctx.options.staged, canary=ctx.options.canary)
    if options.canary is not None and not 0 < options.canary < 100:
        raise UsageError(f"--canary {options.canary}: must be between 1 and 99", hint="use e.g. --canary 10")
    target = ctx.target
    names = _selected(target, options.services)
    run_api = api or (OfflineRun() if ctx.options.offline else _api(ctx))
    shared = _Shared(
        ctx=ctx,
        api=run_api,
        options=options,
        release_id=options.release_id or new_release_id(),
        git_sha=options.git_sha or git_sha(target.root),
        waves=[[n for n in wave if n in names] for wave in deploy_order(target.config)],
    )
    # Every service read, also those only referenced, for their URLs. Reads run in parallel:
    # the service and its IAM policy are independent calls.
    referenced = {
        r.name
        for n in names
        for v in target.config.services[n].env.values()
        for r in parse_refs(v)
        if r.kind == "services"
    }
    to_read = sorted(set(names) | referenced)
    calls: list[tuple[str, str]] = [(n, "service") for n in to_read] + [(n, "iam") for n in names]

    def read(call: tuple[str, str]) -> Json | None:
        name, kind = call
        fname = full_name(target, name)
        if kind == "service":
            return run_api.get_service(fname)
        try:
            return run_api.get_iam_policy(fname)
        except RemoteError as exc:
            if "not found" in exc.message:
                return None
            raise

    results = _parallel(read, calls, ctx.options.concurrency)
    lives = {n: results[(n, "service")] for n in to_read}
    for n, live in lives.items():
        if live and live.get("uri"):
            shared.urls[n] = live["uri"]
    notes: set[str] = set()
    resolver = _Resolver(shared, notes)
    changes = []
    for wave in shared.waves:
        for name in wave:
            live = lives[name]
            policy = results[(name, "iam")] if live is not None else None
            changes.append(_plan_service(shared, resolver, name, live, policy))
    if options.canary is not None or options.staged:
        notes.add(
            f"staged rollout: new revisions get no traffic under tag '{options.tag}' until the health check passes"
            + (f", then {options.canary}% (finish with `shipit promote`)" if options.canary else "")
        )
    return Plan.of(STEP, changes, sorted(notes))


# -- applying ----------------------------------------------------------------------------------------


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


def _serving(service: Json) -> list[Json]:
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


class _Rollout:
    """Apply one service's change: write, wait for Ready, optional health check, traffic, IAM."""

    def __init__(self, change: Change) -> None:
        self.p: ServicePlan = change.payload
        self.change = change
        self.shared = self.p.shared
        self.api = self.shared.api
        self.console = self.shared.ctx.console
        self.options = self.shared.options
        self.target = self.shared.ctx.target
        self.service_cfg = self.target.config.services[self.p.name]

    def _fail(self, message: str, action: str = "update") -> ServiceResult:
        return ServiceResult(self.p.name, action, False, message=message)

    def run(self) -> ServiceResult:
        p = self.p
        desired, live = p.desired, p.live
        spec_changed = p.spec_changed
        if p.pending_refs:
            # Re-render now that the services it refers to are deployed and have URLs.
            resolver = _Resolver(self.shared, set())
            spec, pending = _desired(self.shared, resolver, p.name, live)
            if pending:
                return self._fail(f"needs the URL of {', '.join(pending)}, which did not deploy", "skip")
            desired = self.api.normalize(_with_labels(spec, self.shared.release_id, self.shared.git_sha))
            spec_changed = live is None or bool(spec_diff(desired, live)) or p.retry_failed
            if not spec_changed and not p.traffic_changed and not p.invokers:
                return self._done(live or {}, "no-op")
        if live is None:
            return self._create(desired)
        return self._update(desired, live, spec_changed)

    def _create(self, desired: Json) -> ServiceResult:
        self.console.info(f"{self.p.name}: creating the service")
        body = {**desired, "traffic": settled_traffic()}
        result = self.api.create_service(_parent(self.target), self.p.name, body)
        service = result.service
        failure = self._failure(service, result.error, previous=None)
        if failure:
            return self._fail(failure, "create")
        return self._finish(service, "create")

    def _update(self, desired: Json, live: Json, spec_changed: bool) -> ServiceResult:
        if not spec_changed and not self.p.traffic_changed:
            return self._finish(live, "update")  # only the IAM policy differs
        staged = (self.options.staged or self.options.canary is not None) and spec_changed
        pinned = _serving(live)
        single = not staged and (_is_settled(live.get("traffic", [])) or not spec_changed or not pinned)
        candidate = {"type": LATEST, "percent": 0, "tag": self.options.tag}
        traffic = settled_traffic() if single else [*pinned, candidate]
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
        else:
            final = settled_traffic()
        service = self._write_traffic(service, final) or service
        return self._finish(service, "update")

    def _canary_split(self, pinned: list[Json], percent: int) -> list[Json]:
        main = max(pinned, key=lambda t: int(t["percent"]))
        return [
            {"type": REVISION, "revision": main["revision"], "percent": 100 - percent},
            {"type": LATEST, "percent": percent, "tag": self.options.tag},
        ]

    def _health(self, service: Json) -> HealthResult | None:
        path = self.service_cfg.health.path
        if path is None:
            return None
        uri = _tag_uri(service, self.options.tag)
        if uri is None:
            return HealthResult(False, f"no URL for tag {self.options.tag}")
        checker = self.options.health_checker or http_health_check
        self.console.info(f"{self.p.name}: checking {uri}{path}")
        return checker(uri, path, float(self.service_cfg.health.timeout))

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
        if uri:
            with self.shared.lock:
                self.shared.urls[self.p.name] = str(uri)
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


def apply(ctx: StepContext, plan: Plan) -> dict[str, dict[str, Any]]:
    """Roll out the planned changes wave by wave (parallel within a wave). Raises DeployFailed (exit 1)."""
    changes = {c.payload.name: c for c in plan.changes if isinstance(c.payload, ServicePlan)}
    if not changes:
        return {}
    shared: _Shared = next(iter(changes.values())).payload.shared
    results: dict[str, ServiceResult] = {}
    failed: set[str] = set()

    def one(name: str) -> ServiceResult:
        change = changes[name]
        payload: ServicePlan = change.payload
        blocked = [d for d in payload.pending_refs if d in failed]
        if blocked:
            return ServiceResult(name, "skip", False, message=f"not deployed: {', '.join(blocked)} failed")
        if change.is_noop:
            return _Rollout(change)._done(payload.live or {}, "no-op")
        try:
            return _Rollout(change).run()
        except ShipitError as exc:
            return ServiceResult(name, change.action.value, False, message=exc.render())

    for wave in shared.waves:
        todo = [n for n in wave if n in changes]
        for name, result in _parallel(one, todo, ctx.options.concurrency).items():
            results[name] = result
            if result.ok:
                if result.action != "no-op":
                    where = f" {result.url}" if result.url else ""
                    ctx.console.success(f"{name}: {result.action}d, revision {result.revision} serving{where}")
                ctx.console.event("service", **result.to_json())
            else:
                failed.add(name)
                ctx.console.error(f"{name}: {result.message}")
                ctx.console.event("service", **result.to_json())
    out = {n: r.to_json() for n, r in results.items()}
    ctx.results[STEP] = out
    if failed:
        first = next(r for r in results.values() if not r.ok)
        message = f"{len(failed)} of {len(results)} service(s) failed to deploy: {', '.join(sorted(failed))}"
        if len(failed) == 1 and first.message:
            message = f"{first.name}: {first.message}"
        raise DeployFailed(message)
    return out
