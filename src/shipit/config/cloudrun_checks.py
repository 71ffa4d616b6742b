"""Cloud Run rules for probes, sidecars and volumes: what Cloud Run rejects or what silently breaks.

Probe limits follow "Configure container health checks for services"
(https://cloud.google.com/run/docs/configuring/healthchecks): a startup probe's initial delay, period
and timeout are each 0/1..240 seconds, a liveness (and readiness) probe's 0/1..3600, and the timeout
may not exceed the period. HTTP probes need HTTP/1 (not end-to-end HTTP/2). Paths Google's front end
reserves ("Known issues": /eventlog, /_ah/..., and some paths ending in z such as /healthz) never reach
the container from outside, so a health check on them fails after a good deploy.
"""

from __future__ import annotations

from collections.abc import Iterator

from shipit.config.checks import Path_, Problem, did_you_mean
from shipit.config.cloudrun import Probe
from shipit.config.models import Service

# kind -> (max initial delay, max period, max timeout), seconds.
PROBE_LIMITS = {"startup": (240, 240, 240), "liveness": (3600, 3600, 3600), "readiness": (3600, 3600, 3600)}
_RESERVED_HINT = "use another path, e.g. /health"


def reserved_path(path: str) -> str | None:
    """Why Cloud Run's front end would not pass ``path`` to the container, or None."""
    bare = path.split("?", 1)[0]
    if bare == "/eventlog" or bare.startswith("/eventlog/"):
        return "/eventlog is reserved by Cloud Run"
    if bare.startswith("/_ah/"):
        return "paths under /_ah/ are reserved by Cloud Run"
    if bare.rstrip("/").endswith("z"):
        return "Cloud Run reserves paths ending in z (such as /healthz)"
    return None


def _probe_problems(path: Path_, kind: str, probe: Probe, service: Service, sidecar: bool) -> Iterator[Problem]:
    max_delay, max_period, max_timeout = PROBE_LIMITS[kind]
    for field, value, limit in (
        ("initial_delay", probe.initial_delay, max_delay),
        ("period", probe.period, max_period),
        ("timeout", probe.timeout, max_timeout),
    ):
        if value > limit:
            yield Problem((*path, field), f"a {kind} probe's {field} is at most {limit}s on Cloud Run (got {value}s)")
    if probe.timeout > probe.period:
        yield Problem(
            (*path, "timeout"),
            f"timeout ({probe.timeout}s) is longer than period ({probe.period}s); Cloud Run rejects it",
            "make timeout at most period",
        )
    if probe.type == "http":
        why = reserved_path(probe.path)
        if why:
            yield Problem((*path, "path"), f"{probe.path}: {why}", _RESERVED_HINT)
        if service.kind == "worker":
            yield Problem(
                (*path, "type"), "a worker has no HTTP port, so an http probe can never pass", "use type: tcp or grpc"
            )
        elif service.cloud_run.http2 and not sidecar:
            yield Problem(
                (*path, "type"),
                "Cloud Run's HTTP probes use HTTP/1, which an http2 (h2c) container does not answer",
                "use type: tcp or grpc, or http2: false",
            )
    if sidecar and probe.port is None:
        yield Problem((*path, "port"), "a sidecar has no container port: give the probe a port")


def service_problems(base: Path_, name: str, service: Service) -> Iterator[Problem]:
    """Probes, sidecars, volumes and service-level scaling of one service."""
    cr = service.cloud_run
    probes = cr.probes
    for kind in ("startup", "liveness", "readiness"):
        probe = getattr(probes, kind)
        if probe is not None:
            yield from _probe_problems((*base, "cloud_run", "probes", kind), kind, probe, service, sidecar=False)
    if service.health.path is not None:
        why = reserved_path(service.health.path)
        if why:
            yield Problem((*base, "health", "path"), f"{service.health.path}: {why}", _RESERVED_HINT)
    containers = {name, *service.sidecars}
    for i, dep in enumerate(cr.depends_on):
        if dep not in service.sidecars:
            yield Problem(
                (*base, "cloud_run", "depends_on", i),
                f"'{dep}' is not a sidecar of this service",
                did_you_mean(dep, service.sidecars) or "list names from sidecars:",
            )
    for side, sidecar in service.sidecars.items():
        spath: Path_ = (*base, "sidecars", side)
        if side == name:
            yield Problem(spath, f"a sidecar cannot share the service's name '{name}'", "rename the sidecar", True)
        for kind, probe in (("startup", sidecar.startup_probe), ("liveness", sidecar.liveness_probe)):
            if probe is not None:
                yield from _probe_problems((*spath, f"{kind}_probe"), kind, probe, service, sidecar=True)
        for i, dep in enumerate(sidecar.depends_on):
            if dep not in containers or dep == side:
                yield Problem(
                    (*spath, "depends_on", i),
                    f"'{dep}' is not another container of this service",
                    did_you_mean(dep, containers - {side}) or f"containers: {', '.join(sorted(containers - {side}))}",
                )
        for volume in sidecar.mounts:
            if volume == "cloudsql" and service.databases:
                continue  # the Cloud SQL socket volume of the service's databases
            if volume not in service.volumes:
                yield Problem(
                    (*spath, "mounts", volume),
                    f"volume '{volume}' is not defined",
                    did_you_mean(volume, service.volumes) or "define it under volumes:",
                    True,
                )
    # A dependency is "started" when its startup probe passes; without one it orders nothing.
    for i, dep in enumerate(cr.depends_on):
        if dep in service.sidecars and service.sidecars[dep].startup_probe is None:
            yield Problem(
                (*base, "cloud_run", "depends_on", i),
                f"sidecar '{dep}' has no startup_probe, so waiting for it does not wait for it to be ready",
                f"add sidecars.{dep}.startup_probe",
            )
    yield from _cycle((*base, "sidecars"), name, service)
    for vol, source in service.volumes.items():
        if vol == "cloudsql" or vol.startswith("secret-"):
            yield Problem((*base, "volumes", vol), f"volume name '{vol}' is used by shipit", "rename it", True)
        # Cloud Run reaches an NFS server only through VPC access (a database gives a connector by default).
        if source.nfs is not None and cr.vpc is None and not service.databases:
            yield Problem(
                (*base, "volumes", vol, "nfs"),
                "an NFS volume needs VPC access, and this service has none",
                "set cloud_run.vpc: {mode: direct} (Direct VPC egress) or {mode: connector}",
            )
    scaling = cr.scaling
    spath = (*base, "cloud_run", "scaling")
    if scaling.manual_instances is not None and (scaling.min_instances is not None or scaling.max_instances):
        yield Problem(
            (*spath, "manual_instances"),
            "manual scaling takes no min_instances/max_instances",
            "remove min_instances and max_instances",
        )
    low, high = scaling.min_instances, scaling.max_instances
    if low is not None and high is not None and low > high:
        yield Problem((*spath, "min_instances"), "min_instances is greater than max_instances")


def _cycle(path: Path_, name: str, service: Service) -> Iterator[Problem]:
    deps = {side: set(sc.depends_on) for side, sc in service.sidecars.items()}
    deps[name] = set(service.cloud_run.depends_on)
    seen: set[str] = set()

    def reaches(start: str, node: str, visited: set[str]) -> bool:
        for nxt in deps.get(node, ()):
            if nxt == start:
                return True
            if nxt not in visited:
                visited.add(nxt)
                if reaches(start, nxt, visited):
                    return True
        return False

    for node in sorted(deps):
        if node not in seen and reaches(node, node, set()):
            seen.add(node)
            yield Problem(path, f"containers wait for each other in a cycle (through '{node}')", "break the cycle")
            return
