"""Multi-region environments: the keys (`regions`, `domain`, `routes`, `armor`, `cloud_armor`) and their rules.

An environment with ``regions: [a, b]`` deploys each HTTP service once per region (the first region is
the primary: workers, jobs, migrations, Cloud SQL and the image repository live there). With ``domain``,
the generated Terraform puts a global external Application Load Balancer (one address, one managed
certificate) in front of the services that ``routes`` names, with a serverless NEG per region.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from shipit.config.models import Environment, ShipitConfig

Path_ = tuple[str | int, ...]

# Regions where Cloud Run services run (cloud.google.com/run/docs/locations). A region missing here is
# refused with a hint rather than failing late at the API: add it when Google adds one.
CLOUD_RUN_REGIONS = frozenset(
    {
        "africa-south1",
        "asia-east1",
        "asia-east2",
        "asia-northeast1",
        "asia-northeast2",
        "asia-northeast3",
        "asia-south1",
        "asia-south2",
        "asia-southeast1",
        "asia-southeast2",
        "australia-southeast1",
        "australia-southeast2",
        "europe-central2",
        "europe-north1",
        "europe-north2",
        "europe-southwest1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west8",
        "europe-west9",
        "europe-west10",
        "europe-west12",
        "me-central1",
        "me-central2",
        "me-west1",
        "northamerica-northeast1",
        "northamerica-northeast2",
        "northamerica-south1",
        "southamerica-east1",
        "southamerica-west1",
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        "us-west2",
        "us-west3",
        "us-west4",
    }
)

# Cloud Armor's preconfigured WAF rules (OWASP CRS 3.3, sensitivity 1) and a per-client rate limit: the
# policy `cloud_armor: true` generates.
DEFAULT_WAF_RULES = (
    "sqli-v33-stable",
    "xss-v33-stable",
    "lfi-v33-stable",
    "rce-v33-stable",
    "scannerdetection-v33-stable",
)
DEFAULT_RATE_LIMIT = 600  # requests per client IP per minute


class Armor(BaseModel):
    """Cloud Armor in front of the load balancer: an existing policy by name, or the generated default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str | None = Field(
        None,
        pattern=r"^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$",
        description="Name of an existing security policy; unset: shipit generates one (WAF rules + rate limit).",
    )
    rate_limit: int = Field(
        DEFAULT_RATE_LIMIT, ge=1, le=1_000_000, description="Generated policy: requests per client IP per minute."
    )


Domain = str
DOMAIN_PATTERN = r"^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
ROUTE_PATTERN = r"^/([A-Za-z0-9._~-]+/)*\*?$"


def service_regions(environment: Environment, service: Any) -> tuple[str, ...]:
    """Where one service runs: its own ``regions``, else the environment's, else the environment's region."""
    own = getattr(service, "regions", None)
    if own:
        return tuple(own)
    return tuple(environment.regions or (environment.region,))


def fill_region(data: Any) -> Any:
    """Before validation: ``region`` defaults to the first of ``regions``; both must agree when both are set."""
    if not isinstance(data, dict) or not isinstance(data.get("regions"), list | tuple) or not data["regions"]:
        return data
    first = data["regions"][0]
    if data.get("region") is None:
        return {**data, "region": first}
    if data["region"] != first:
        raise ValueError(
            f"set either region or regions, not both (region {data['region']} is not the first of regions)"
        )
    return data


def _region_problems(path: Path_, regions: tuple[str, ...]) -> Iterator[tuple[Path_, str, str | None]]:
    from shipit.config.checks import did_you_mean

    seen: set[str] = set()
    for i, region in enumerate(regions):
        if region in seen:
            yield (*path, i), f"region {region} is listed twice", "list each region once"
        seen.add(region)
        if region not in CLOUD_RUN_REGIONS:
            hint = did_you_mean(region, CLOUD_RUN_REGIONS) or "see cloud.google.com/run/docs/locations"
            yield (*path, i), f"'{region}' is not a Cloud Run region", hint


def multiregion_problems(config: ShipitConfig) -> Iterator[tuple[Path_, str, str | None]]:
    """(path, message, hint) for every multi-region setting Cloud Run or the load balancer cannot serve.

    A service that reaches the VPC (databases, caches, ``cloud_run.vpc``) may run in several regions: the
    generated Terraform gives each of its regions a subnet and connector (:mod:`shipit.config.vpc_regions`)."""
    from shipit.config.checks import _undefined
    from shipit.config.vpc_regions import environment_regions, vpc_region_problems

    yield from vpc_region_problems(config)

    services = config.services
    http = {n for n, s in services.items() if s.kind == "service"}
    for env_name, env in config.environments.items():
        base: Path_ = ("environments", env_name)
        yield from _region_problems((*base, "regions"), tuple(env.regions or ()))
        overlays = env.services
        for name, svc in services.items():
            own = overlays.get(name, {}).get("regions") or svc.regions
            where: Path_ = (
                (*base, "services", name, "regions")
                if overlays.get(name, {}).get("regions")
                else (
                    "services",
                    name,
                    "regions",
                )
            )
            if own:
                yield from _region_problems(where, tuple(own))
                if svc.kind == "worker":
                    yield where, "a worker runs in the primary region only", "remove regions"
        if env.domain:
            fronted = set(env.routes.values()) if env.routes else http
            for name in sorted(fronted & http):
                cr = services[name].cloud_run
                overlay = overlays.get(name, {}).get("cloud_run", {})
                public = overlay.get("allow_unauthenticated", cr.allow_unauthenticated)
                if not (public or overlay.get("invoker_iam_disabled", cr.invoker_iam_disabled)):
                    yield (
                        ("services", name, "cloud_run", "allow_unauthenticated"),
                        f"service {name} is behind the load balancer, whose requests carry no identity",
                        "set allow_unauthenticated: true (its ingress then admits only the load balancer)",
                    )
        replication = config.secrets.replication
        # Every region a service runs in reads its secrets there (DATABASE_URL among them).
        named = environment_regions(env, config)
        if not replication.automatic and len(named) > 1:
            missing = [r for r in named if r not in replication.locations]
            if missing:
                yield (
                    ("secrets", "replication", "locations"),
                    f"secrets are not replicated to {', '.join(missing)}, where environment {env_name} runs",
                    "add the regions to locations, or use automatic replication",
                )
        for pattern, target in env.routes.items():
            if not re.fullmatch(ROUTE_PATTERN, pattern):
                yield (*base, "routes", pattern), f"'{pattern}' is not a path pattern", "use e.g. /* or /api/*"
            if target not in http:
                message, hint = _undefined("services", target, http)
                yield (*base, "routes", pattern), message, hint
        if env.routes and not env.domain:
            yield (*base, "routes"), "routes need a domain for the load balancer", "add domain: www.example.com"
        if env.domain and not env.routes and len(http) != 1:
            yield (
                (*base, "domain"),
                "the load balancer needs to know which service answers which path",
                "add routes: {'/*': web, '/api/*': api}",
            )
        if env.routes and "/*" not in env.routes:
            yield (*base, "routes"), "routes need a default '/*' service", "add '/*': SERVICE"
        if (env.armor is not None or env.cloud_armor) and not env.domain:
            yield (*base, "armor" if env.armor else "cloud_armor"), "Cloud Armor needs the load balancer", "add domain"
        if env.armor is not None and env.cloud_armor:
            yield (*base, "cloud_armor"), "set either armor or cloud_armor", "remove cloud_armor"
