"""Resolving each service's inputs for the services step (steps/services), and its desired spec.

Inputs (all optional, so the step also works on its own with explicit options); earlier steps'
results come through shipit.steps.resolver (this run, else the state file, else the live remote):
  ctx.options.images           (("api", "HOST/P/R/api@sha256:..."), ...) given on the command line
  PushResult.images            {service: "HOST/PROJECT/REPO/SERVICE@sha256:..."} from the push step
  SecretsResult.versions       {KEY: "projects/P/secrets/ID/versions/N"} from the secrets step; env vars
                               and files from secrets are pinned to exactly these versions
  InfraResult.outputs          terraform outputs:
      service_accounts           {service: email}        runtime identity (default: config, else the
                                                          project's default compute account)
      vpc_connector              "projects/P/locations/R/connectors/NAME"
      vpc_network, vpc_subnetwork  for Direct VPC egress (cloud_run.vpc.mode: direct)
      vpc_connectors, vpc_subnets  region -> connector id / subnet name (multi-region environments)
      database_connection_names  {db: "P:R:INSTANCE"}    mounted as Cloud SQL instances
      database_url_secrets       {db: secret id}         DATABASE_URL (db.env_var) comes from it
      cache_url_secrets/_versions  {cache: ...}          REDIS_URL (cache.env_var), pinned to that version
      cache_ca_secrets/_versions   {cache: ...}          REDIS_CA_CERT (cache.ca_env_var), the server CA
Without infra outputs: no VPC access and the default service account, each said in the plan notes.
An image not given keeps the live service's image; a secret version not given keeps the live one
(else "latest", noted).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shipit.config.caches import cache_ca_secret_key, cache_url_secret_key
from shipit.config.database_engines import engine
from shipit.config.models import Service
from shipit.config.refs import Reference, substitute
from shipit.errors import UsageError
from shipit.names import GIT_SHA_LABEL, RELEASE_LABEL, owner_labels
from shipit.render.cloudrun import (
    RenderError,
    SecretRef,
    ServiceInputs,
    VpcAccess,
    render_service,
)
from shipit.results import InfraResult, PushResult, SecretsResult
from shipit.steps.infra_outputs import deploy_inputs
from shipit.steps.resolver import earlier
from shipit.steps.services.api import Json
from shipit.steps.services.shared import DeployOptions

if TYPE_CHECKING:
    from shipit.steps.context import StepContext


def _images(ctx: StepContext) -> dict[str, str]:
    pushed = earlier(ctx, PushResult)
    images = dict(pushed.images) if pushed is not None else {}
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


def _live_cpu_boost(live: Json | None) -> bool:
    """An unset startup_cpu_boost: on for a new service (as `gcloud run deploy`), else what the service has."""
    if live is None:
        return True
    containers = live.get("template", {}).get("containers") or [{}]
    return bool(containers[0].get("resources", {}).get("startupCpuBoost"))


class Resolver:
    """Turns config + step results into ServiceInputs for one service, collecting plan notes.

    ``urls``: the URL of each service known so far (live when planning, or deployed by an earlier wave)."""

    def __init__(self, ctx: StepContext, options: DeployOptions, urls: Mapping[str, str], notes: set[str]) -> None:
        self.target = ctx.target
        infra = earlier(ctx, InfraResult)
        if infra is None:
            infra = InfraResult()
        self.infra: Mapping[str, Any] = deploy_inputs(infra.outputs)
        self.infra_pending = infra.pending
        secrets = earlier(ctx, SecretsResult)
        self.synced: Mapping[str, str] = secrets.versions if secrets is not None else {}
        self.explicit = dict(options.secret_versions)
        self.images = _images(ctx)
        self.urls = urls
        self.notes = notes

    def with_urls(self, urls: Mapping[str, str]) -> Resolver:
        """This resolver with the URLs known now: the earlier steps' results are resolved once per deploy, not
        once per service (resolving them may hash every build context)."""
        import copy

        clone = copy.copy(self)
        clone.urls = urls
        clone.notes = set()
        return clone

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
            url = self.urls.get(ref.name)
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
            "port": str(engine(db.engine).port),
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
        secret_env.update(self._cache_env(service, live_versions))
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
                # Named as whole commands: `plan` reaches this too, and has no --image.
                hint=f"`shipit deploy` builds and pushes it, or give one: "
                f"`shipit services deploy --image {name}=REGION-docker.pkg.dev/PROJECT/REPO/{name}@sha256:...`",
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
        # app/env: `shipit destroy` deletes only what carries this app's and environment's labels.
        labels = {**cr.labels, **owner_labels(self.target.app, self.target.env_name)}
        sidecar_env = {
            side: {k: substitute(v, resolve) for k, v in sidecar.env.items()}
            for side, sidecar in service.sidecars.items()
        }
        sidecar_secrets = {
            side: {key: self._secret(key, self.target.secret_id(key), live_versions) for key in sidecar.secrets}
            for side, sidecar in service.sidecars.items()
        }
        sidecar_images = {
            side: self._sidecar_image(name, side, live)
            for side, sidecar in service.sidecars.items()
            if sidecar.build is not None
        }
        return (
            ServiceInputs(
                image=image,
                name=name,
                sidecar_images=sidecar_images,
                cpu_boost=_live_cpu_boost(live),
                sidecar_env=sidecar_env,
                sidecar_secret_env=sidecar_secrets,
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

    def _cache_env(self, service: Service, live_versions: Mapping[str, str]) -> dict[str, SecretRef]:
        """REDIS_URL and REDIS_CA_CERT of each cache the service uses, pinned to the versions Terraform wrote."""
        out: dict[str, SecretRef] = {}
        for cache_name in service.caches:
            cache = self.target.config.caches[cache_name]
            for var, secrets_key, versions_key, key in (
                (cache.env_var, "cache_url_secrets", "cache_url_versions", cache_url_secret_key(cache_name)),
                (cache.ca_env_var, "cache_ca_secrets", "cache_ca_versions", cache_ca_secret_key(cache_name)),
            ):
                secret_id = str((self.infra.get(secrets_key) or {}).get(cache_name) or self.target.secret_id(key))
                pinned = (self.infra.get(versions_key) or {}).get(cache_name)
                out[var] = (
                    SecretRef(secret_id, _version_of(str(pinned)))
                    if pinned and var not in self.explicit
                    else self._secret(var, secret_id, live_versions)
                )
        return out

    def _sidecar_image(self, name: str, side: str, live: Json | None) -> str:
        """The image of a sidecar shipit builds (image key SERVICE.SIDECAR): pushed or given, else as deployed."""
        key = f"{name}.{side}"
        image = self.images.get(key)
        if image is None and live is not None:
            containers = live.get("template", {}).get("containers", [])
            image = next((c.get("image") for c in containers if c.get("name") == side), None)
            if image is not None:
                self.notes.add(f"{key}: no new image given, keeping the deployed one")
        if image is None:
            raise UsageError(
                f"no image for sidecar {side} of service {name}, which is not deployed yet",
                hint=f"`shipit deploy` builds and pushes it, or give one: `--image {key}=REF`",
            )
        return image

    def _vpc(self, name: str, service: Service) -> VpcAccess | None:
        vpc = service.cloud_run.vpc
        if vpc is None and not service.databases and not service.caches:
            return None
        # Worker pools support Direct VPC egress only.
        mode = vpc.mode if vpc else ("direct" if service.kind == "worker" else "connector")
        egress = vpc.egress if vpc else "private-ranges-only"
        if mode == "connector":
            connector = self._regional("vpc_connectors", "vpc_connector")
            if not connector:
                self._no_output(
                    name,
                    f"{name}: no VPC connector known in {self.target.region} (infra outputs vpc_connectors, "
                    "vpc_connector), deployed without VPC access",
                )
                return None
            return VpcAccess(egress=egress, connector=str(connector))
        network, subnet = self.infra.get("vpc_network"), self._regional("vpc_subnets", "vpc_subnetwork")
        if not network and not subnet:
            self._no_output(
                name, f"{name}: no VPC network known (infra outputs vpc_network/vpc_subnetwork), no Direct VPC"
            )
            return None
        return VpcAccess(egress=egress, network=str(network or "") or None, subnetwork=str(subnet or "") or None)

    def _regional(self, per_region: str, single: str) -> Any:
        """The infra output for the region deployed to: ``per_region`` maps region -> value; the single-region
        output ``single`` serves the primary region only (a subnet or connector is regional)."""
        regional = self.infra.get(per_region)
        if isinstance(regional, Mapping) and regional.get(self.target.region):
            return regional[self.target.region]
        primary = (self.target.origin or self.target).region
        return self.infra.get(single) if self.target.region == primary else None


def resolve_inputs(
    ctx: StepContext, name: str, live: Json | None, urls: Mapping[str, str], notes: set[str]
) -> tuple[ServiceInputs, list[str]]:
    """A service's inputs exactly as this step resolves them (image, pinned secrets, infra outputs, URLs),
    for the migration job and the local parity check. Makes no call: live state comes in as arguments."""
    return Resolver(ctx, DeployOptions(), urls, notes).inputs(name, ctx.target.config.services[name], live)


def with_release_labels(spec: Json, release: str, sha: str) -> Json:
    out = {**spec, "labels": {**spec.get("labels", {}), RELEASE_LABEL: release, GIT_SHA_LABEL: sha}}
    template = dict(out["template"])
    template["labels"] = {**template.get("labels", {}), RELEASE_LABEL: release, GIT_SHA_LABEL: sha}
    out["template"] = template
    return out


def desired_service(resolver: Resolver, name: str, live: Json | None) -> tuple[Json, list[str]]:
    target = resolver.target
    service = target.config.services[name]
    inputs, pending = resolver.inputs(name, service, live)
    try:
        spec = render_service(service, inputs)
    except RenderError as exc:
        raise UsageError(f"services.{name}.{exc}", hint=f"edit {target.config_file}") from None
    return spec, pending
