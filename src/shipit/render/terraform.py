"""shipit.yaml -> the Terraform in infra/: one shared module plus one small root per environment.

Pure: resolved targets in, ``{relative path: file text}`` out. Ownership headers are added by
:mod:`shipit.infra.generate`, not here.

Layout::

    infra/
      versions.tf variables.tf locals.tf apis.tf network.tf ... outputs.tf   the module, shared
      environments/ENV/main.tf      backend (per environment), provider, `module "app"` with ENV's data
      environments/ENV/outputs.tf   the module's outputs, re-exported for `terraform output`

The module is data-driven (for_each over services, secrets, databases, topics) so one edit applies
to every environment, and each environment root says literally what it gets: reviewing a change of
shipit.yaml is reading a diff of that file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shipit.config.models import Service, ShipitConfig
from shipit.config.target import Target
from shipit.names import (
    PUSH_ACCOUNT,
    account_id,
    connector_name,
    database_url_secret_key,
    fit,
    name_prefix,
    owner_labels,
)
from shipit.render import terraform_global_lb as global_lb
from shipit.render import terraform_module as module
from shipit.render import terraform_redis as redis
from shipit.render import terraform_vpc_regions as vpc_regions
from shipit.render.hcl import Attr, Blank, Block, Comment, Item, Raw, render
from shipit.render.job import job_as_service

MODULE_NAME = "app"
ENVIRONMENTS_DIR = "environments"
REQUIRED_TERRAFORM = ">= 1.11"


def environment_dir(env_name: str) -> str:
    """The root module of one environment, relative to the infra directory."""
    return f"{ENVIRONMENTS_DIR}/{env_name}"


def vpc_mode(service: Service) -> str | None:
    """Returns "connector", "direct" or None: how the service reaches private IPs."""
    if service.cloud_run.vpc is not None:
        return service.cloud_run.vpc.mode
    if not service.databases and not service.caches:
        return None
    # Worker pools support Direct VPC egress only.
    return "direct" if service.kind == "worker" else "connector"


def vpc_modes(config: ShipitConfig) -> set[str | None]:
    """How each service, worker and job of the config reaches private IPs (a job as its own settings say)."""
    workloads = [*config.services.values(), *(job_as_service(job) for job in config.jobs.values())]
    return {vpc_mode(w) for w in workloads}


def bucket_roles(service: Service) -> dict[str, str]:
    """Bucket -> the role the service's account needs on it for its Cloud Storage volumes."""
    roles: dict[str, str] = {}
    for volume in service.volumes.values():
        if volume.gcs is None:
            continue
        # One writable mount of a bucket makes the service a writer of it.
        writable = not volume.gcs.read_only or roles.get(volume.gcs.bucket) == "roles/storage.objectUser"
        roles[volume.gcs.bucket] = "roles/storage.objectUser" if writable else "roles/storage.objectViewer"
    return roles


def service_secret_keys(service: Service) -> list[str]:
    """Secrets the running service reads: env-var secrets and secret files (not build secrets)."""
    keys = list(service.secrets)
    keys.extend(key for key in service.secret_files.values() if key not in keys)
    keys.extend(key for sidecar in service.sidecars.values() for key in sidecar.secrets if key not in keys)
    return keys


def _union(*groups: Sequence[str]) -> list[str]:
    out: list[str] = []
    for group in groups:
        out.extend(item for item in group if item not in out)
    return out


def terraform_secret_keys(config: ShipitConfig) -> list[str]:
    """The keys whose secret containers the module declares: what services (and the jobs run with their
    images) read, plus secrets.extra. Build secrets are not among them (no service reads them at run
    time): shipit creates those containers."""
    keys: list[str] = []
    for name, svc in config.services.items():
        jobs = [job for job in config.jobs.values() if job.service == name]
        keys.extend(k for k in _union(service_secret_keys(svc), *(job.secrets for job in jobs)) if k not in keys)
    keys.extend(k for k in config.secrets.extra if k not in keys)
    return keys


@dataclass(frozen=True)
class Features:
    """Which parts of the module exist: the union over environments."""

    network: bool = False
    connector: bool = False
    databases: bool = False
    pubsub: bool = False
    scheduler: bool = False
    caches: bool = False
    remote_builds: bool = False
    load_balancer: bool = False
    buckets: bool = False
    # Some environment runs a service that reaches the VPC in more than one region.
    vpc_regions: bool = False

    @classmethod
    def of(cls, targets: Sequence[Target]) -> Features:
        modes = {mode for t in targets for mode in vpc_modes(t.config)}
        databases = any(t.config.databases for t in targets)
        caches = any(t.config.caches for t in targets)
        return cls(
            network=databases or caches or bool(modes - {None}),
            connector="connector" in modes,
            databases=databases,
            pubsub=any(t.config.pubsub and (t.config.pubsub.topics or t.config.pubsub.subscriptions) for t in targets),
            scheduler=any(job.schedule for t in targets for job in t.config.jobs.values()),
            caches=caches,
            remote_builds=any(remote_build_services(t.config) for t in targets),
            load_balancer=any(t.environment.domain for t in targets),
            buckets=any(bucket_roles(svc) for t in targets for svc in t.config.services.values()),
            vpc_regions=any(vpc_regions.needs_regions(t, vpc_mode) for t in targets),
        )


def remote_build_services(config: ShipitConfig) -> list[str]:
    """Services built on Cloud Build by configuration (build.engine, services.X.build.engine)."""
    return [
        name
        for name, svc in config.services.items()
        if svc.build is not None and not svc.image and (svc.build.engine or config.build.engine) == "cloudbuild"
    ]


def deletion_protection(target: Target, name: str) -> bool:
    setting = target.config.databases[name].deletion_protection
    return target.production if setting is None else setting


def module_inputs(target: Target, features: Features) -> dict[str, Any]:
    """The arguments of `module "app"` for one environment, in the order they are written."""
    config = target.config
    prefix = name_prefix(target)
    inputs: dict[str, Any] = {
        "project": target.project,
        "region": target.region,
        "name_prefix": prefix,
        "labels": owner_labels(target.app, target.env_name),
    }
    services: dict[str, Any] = {}
    for name, svc in config.services.items():
        entry: dict[str, Any] = {}
        if svc.cloud_run.service_account:
            entry["service_account_email"] = svc.cloud_run.service_account
        else:
            entry["account_id"] = account_id(target, name)
        # A job runs as its service's account: that account reads the job's secrets and databases too.
        jobs = [job for job in config.jobs.values() if job.service == name]
        entry["secrets"] = _union(service_secret_keys(svc), *(job.secrets for job in jobs))
        if features.databases:
            entry["databases"] = _union(svc.databases, *(job.databases for job in jobs))
        if features.caches:
            entry["caches"] = _union(svc.caches, *(job.caches for job in jobs))
        if bucket_roles(svc):
            entry["buckets"] = bucket_roles(svc)
        services[name] = entry
    inputs["services"] = services
    inputs["secrets"] = {key: target.secret_id(key) for key in terraform_secret_keys(config)}
    replication = config.secrets.replication
    inputs["secret_replication_locations"] = [] if replication.automatic else list(replication.locations)
    inputs["repository"] = {"id": target.repository, "location": target.registry_location}
    if features.network:
        inputs["network"] = {
            "name": fit(f"{prefix}-vpc", 63),
            "subnet_name": fit(f"{prefix}-{target.region}", 63),
            "subnet_cidr": config.infra.subnet_cidr,
        }
    if features.connector:
        needs = "connector" in vpc_modes(config)
        inputs["connector"] = {"name": connector_name(target), "cidr": config.infra.connector_cidr} if needs else None
    if features.vpc_regions:
        inputs.update(vpc_regions.regional_inputs(target, vpc_mode, features.connector))
    if features.databases:
        inputs["databases"] = {
            name: {
                "instance_name": fit(f"{prefix}-{name}", 84),
                "engine": db.engine,
                "version": db.version,
                "tier": db.tier,
                "disk_gb": db.disk_gb,
                "disk_autoresize": db.disk_autoresize,
                "availability": db.availability,
                "backups": db.backups,
                "point_in_time_recovery": db.point_in_time_recovery,
                "deletion_protection": deletion_protection(target, name),
                "database": db.name or name.replace("-", "_"),
                "user": db.user or "app",
                "url_secret_id": target.secret_id(database_url_secret_key(name)),
            }
            for name, db in config.databases.items()
        }
    if features.caches:
        inputs["caches"] = redis.cache_inputs(target)
    if features.pubsub:
        pubsub = config.pubsub
        subs = pubsub.subscriptions if pubsub else {}
        data: dict[str, Any] = {}
        if any(sub.push for sub in subs.values()):
            data["push_account_id"] = account_id(target, PUSH_ACCOUNT)
        data["topics"] = {
            name: {"labels": dict(topic.labels)} for name, topic in (pubsub.topics if pubsub else {}).items()
        }
        data["subscriptions"] = {
            name: {
                "topic": sub.topic,
                "ack_deadline": sub.ack_deadline,
                **({"push_service": sub.push.service, "push_path": sub.push.path} if sub.push else {}),
                **({"pull_service": sub.pull.service} if sub.pull else {}),
            }
            for name, sub in subs.items()
        }
        inputs["pubsub"] = data
    if features.remote_builds:
        inputs["remote_builds"] = _remote_builds(target)
    if features.scheduler:
        inputs["scheduled_jobs"] = {
            name: {
                "schedule": job.schedule,
                "time_zone": job.time_zone,
                "account_id": account_id(target, f"{name}-cron"),
            }
            for name, job in config.jobs.items()
            if job.schedule
        }
    if features.load_balancer:
        inputs["load_balancer"] = global_lb.load_balancer_input(target)
    return inputs


# Days a build source stays in the staging bucket (a build reads it within minutes of the upload).
BUILD_SOURCE_DAYS = 7


def _remote_builds(target: Target) -> dict[str, Any] | None:
    from shipit.names import BUILD_ACCOUNT_ID, build_bucket

    config = target.config
    services = remote_build_services(config)
    if not services:
        return None
    cb = config.build.cloudbuild
    known = terraform_secret_keys(config)
    secrets = _union(*(build.secrets for n in services if (build := config.services[n].build) is not None))
    entry: dict[str, Any] = {
        "bucket": cb.bucket or build_bucket(target.project),
        "location": cb.region or target.region,
        "source_days": BUILD_SOURCE_DAYS,
    }
    if cb.service_account:
        entry["service_account_email"] = cb.service_account
    else:
        entry["account_id"] = BUILD_ACCOUNT_ID
    entry["secrets"] = [k for k in secrets if k in known]
    return entry


def _backend(target: Target) -> Block:
    if target.config.infra.backend == "local":
        return Block(
            "backend",
            ("local",),
            (
                Comment(
                    "Local state (infra.backend: local, an explicit opt-in): it holds the database\n"
                    "passwords, is not shared with your team and has no lock across machines."
                ),
                Attr("path", "terraform.tfstate"),
            ),
        )
    return Block(
        "backend",
        ("gcs",),
        (
            Comment("A versioned bucket; `shipit infra bootstrap` creates it."),
            Attr("bucket", target.state_bucket),
            Attr("prefix", f"{target.app}/{target.env_name}"),
        ),
    )


def environment_main(target: Target, features: Features) -> str:
    inputs = module_inputs(target, features)
    module_body: list[Item] = [Attr("source", "../.."), Blank()]
    for key in ("project", "region", "name_prefix", "labels"):
        module_body.append(Attr(key, inputs.pop(key)))
    for key, value in inputs.items():
        module_body.append(Blank())
        if key == "databases":
            module_body.append(Comment("deletion_protection is on by default in production environments."))
        module_body.append(Attr(key, value))
    items: list[Item] = [
        Comment(
            f"The {target.env_name} environment{' (production)' if target.production else ''}: "
            f"project {target.project}, region {target.region}.\n"
            f"Run it with `shipit infra plan -e {target.env_name}` (or terraform in this directory)."
        ),
        Block("terraform", (), (Attr("required_version", REQUIRED_TERRAFORM), Blank(), _backend(target))),
        Block("provider", ("google",), (Attr("project", target.project), Attr("region", target.region))),
        Block("module", (MODULE_NAME,), tuple(module_body)),
    ]
    return render(items)


def output_names(features: Features) -> list[str]:
    names = ["service_accounts", "repository_url", "secrets"]
    if features.network:
        names.append("network")
    if features.connector:
        names.append("vpc_connector")
    if features.vpc_regions:
        names.append("vpc_subnets")
        if features.connector:
            names.append("vpc_connectors")
    if features.databases:
        names.append("databases")
    if features.caches:
        names.append("caches")
    if features.pubsub:
        names.append("pubsub_push_service_account")
    if features.scheduler:
        names.append("scheduler_service_accounts")
    if features.load_balancer:
        names.append("load_balancer")
    return names


def environment_outputs(features: Features) -> str:
    items: list[Item] = [
        Comment("The module's outputs, for `terraform output` and shipit's deploy step."),
    ]
    items.extend(
        Block("output", (name,), (Attr("value", Raw(f"module.{MODULE_NAME}.{name}")),))
        for name in output_names(features)
    )
    return render(items)


def _locals(features: Features) -> str:
    text = module.LOCALS_HEAD
    if features.databases:
        text += module.LOCALS_DATABASES
    if features.pubsub:
        text += module.LOCALS_PUBSUB
    if features.caches:
        text += redis.LOCALS
    if features.buckets:
        text += module.LOCALS_BUCKETS
    text += module.LOCALS_APIS_HEAD
    conditional = []
    if features.network:
        conditional.append('["compute.googleapis.com"]')
    if features.load_balancer and not features.network:
        conditional.append('var.load_balancer != null ? ["compute.googleapis.com"] : []')
    if features.connector:
        conditional.append('var.connector != null ? ["vpcaccess.googleapis.com"] : []')
    if features.databases:
        apis = '["sqladmin.googleapis.com", "servicenetworking.googleapis.com"]'
        conditional.append(f"length(var.databases) > 0 ? {apis} : []")
    if features.caches:
        conditional.append(redis.API)
    if features.pubsub:
        conditional.append('length(var.pubsub.topics) > 0 ? ["pubsub.googleapis.com"] : []')
    if features.scheduler:
        conditional.append('length(var.scheduled_jobs) > 0 ? ["cloudscheduler.googleapis.com"] : []')
    if features.remote_builds:
        apis = '["cloudbuild.googleapis.com", "storage.googleapis.com"]'
        conditional.append(f"var.remote_builds != null ? {apis} : []")
    text += "".join(f"    {expr},\n" for expr in conditional)
    return text + "  ))\n}\n"


def _private_services_count(features: Features) -> str:
    """The count of the private services range: one when any database or cache needs a private IP."""
    needs = (["length(var.databases) > 0"] if features.databases else []) + (
        ["length(var.caches) > 0"] if features.caches else []
    )
    return f"{' || '.join(needs) or 'false'} ? 1 : 0"


def module_files(features: Features) -> dict[str, str]:
    variables = module.VARIABLES_BASE
    outputs = module.OUTPUTS_BASE
    files = {"versions.tf": module.VERSIONS, "apis.tf": module.APIS}
    if features.network:
        variables += module.VARIABLES_NETWORK
        outputs += module.OUTPUTS_NETWORK
        files["network.tf"] = module.NETWORK + (module.CONNECTOR if features.connector else "")
    if features.connector:
        variables += module.VARIABLES_CONNECTOR
        outputs += module.OUTPUTS_CONNECTOR
    if features.vpc_regions:
        variables += vpc_regions.VARIABLES + (vpc_regions.VARIABLES_CONNECTORS if features.connector else "")
        outputs += vpc_regions.OUTPUTS + (vpc_regions.OUTPUTS_CONNECTORS if features.connector else "")
        files["network.tf"] += vpc_regions.NETWORK + (vpc_regions.CONNECTORS if features.connector else "")
    private_services = module.PRIVATE_SERVICES.replace(module.PRIVATE_SERVICES_COUNT, _private_services_count(features))
    if features.databases:
        variables += module.VARIABLES_DATABASES
        outputs += module.OUTPUTS_DATABASES
        files["databases.tf"] = private_services + module.DATABASES
    if features.caches:
        variables += redis.VARIABLES
        outputs += redis.OUTPUTS
        # The private services range is written once: with the databases when there are any.
        files["caches.tf"] = ("" if features.databases else private_services + "\n") + redis.CACHES
    if features.pubsub:
        variables += module.VARIABLES_PUBSUB
        outputs += module.OUTPUTS_PUBSUB
        files["pubsub.tf"] = module.PUBSUB
    if features.scheduler:
        variables += module.VARIABLES_SCHEDULER
        outputs += module.OUTPUTS_SCHEDULER
        files["scheduler.tf"] = module.SCHEDULER
    if features.remote_builds:
        variables += module.VARIABLES_BUILDS
        files["builds.tf"] = module.BUILDS
    if features.load_balancer:
        variables += global_lb.VARIABLES
        outputs += global_lb.OUTPUTS
        files["load_balancer.tf"] = global_lb.LB
    files["variables.tf"] = variables
    files["locals.tf"] = _locals(features)
    files["service_accounts.tf"] = module.SERVICE_ACCOUNTS
    files["secrets.tf"] = (
        module.SECRETS + (module.DATABASE_IAM if features.databases else "") + (redis.IAM if features.caches else "")
    )
    if features.buckets:
        files["storage.tf"] = module.STORAGE_VOLUMES
    files["registry.tf"] = module.REGISTRY
    files["outputs.tf"] = outputs
    files[".gitignore"] = module.GITIGNORE
    return files


def render_infra(targets: Sequence[Target]) -> dict[str, str]:
    """Every file of infra/ for these environments: {path relative to infra/: text}."""
    if not targets:
        return {}
    features = Features.of(targets)
    files = module_files(features)
    for target in targets:
        files[f"{environment_dir(target.env_name)}/main.tf"] = environment_main(target, features)
        files[f"{environment_dir(target.env_name)}/outputs.tf"] = environment_outputs(features)
    return dict(sorted(files.items()))
