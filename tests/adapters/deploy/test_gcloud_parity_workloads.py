"""The worker-pool and job rows of docs/gcloud-equivalence.md against the real `gcloud`.

`gcloud beta run worker-pools deploy` sends a Cloud Run v2 ``WorkerPool`` over gRPC (recorded by
tests/gcloud_grpc.py, already v2: no mapping); `gcloud run jobs deploy` sends a v1 Job (mapped to v2 by
tests/gcloud_knative.py). Each row's fields must be equal to shipit's request for the row's keys, or differ
exactly as the row's last column says (checked by the row's own check). Rows share gcloud invocations
(CASES): gcloud takes seconds to start.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.deploy.conftest import PARENT, Project, image
from adapters.deploy.test_gcloud_parity import CONN, CONNECTOR, DOC, NETWORK, SA, SUBNET, _get, _help_flags
from gcloud_knative import job_to_v2
from gcloud_recorder import Recorder, recording, run_gcloud
from shipit.plan import thaw_json
from shipit.render.cloudrun import prune

pytestmark = pytest.mark.gcloud

WHERE = ["--project", "acme-staging", "--region", "us-central1", "--quiet"]
IMAGE = image("worker")
SECRET = "acme-staging-STRIPE_KEY"
INFRA = {
    "service_accounts": {"worker": SA, "api": SA},
    "vpc_connector": CONNECTOR,
    "vpc_network": NETWORK,
    "vpc_subnetwork": SUBNET,
    "database_connection_names": {"main": CONN},
    "database_url_secrets": {"main": "acme-staging-main-url"},
    "database_url_versions": {"main": "3"},
}
SECRETS = {"STRIPE_KEY": f"projects/x/secrets/{SECRET}/versions/3"}
C0 = "template.containers[0]"
TASK = "template.template"
T0 = f"{TASK}.containers[0]"
Check = Callable[[dict[str, Any], dict[str, Any], "Outcome"], None]


@dataclass(frozen=True)
class Case:
    kind: str  # "worker", "job" or "scheduler"
    gcloud: tuple[str, ...]
    yaml: str  # shipit.yaml after `environments:`
    files: tuple[tuple[str, str], ...] = ()  # files gcloud reads (name, text), named by {NAME} in its flags


@dataclass(frozen=True)
class Row:
    cases: tuple[str, ...]  # every case must satisfy the row (a row's alternative flags are separate cases)
    fields: tuple[str, ...] = ()  # v2 paths: gcloud == shipit
    check: Check | None = None  # a documented difference, or what a path cannot say


@dataclass
class Outcome:
    gcloud: dict[str, Any]
    shipit: dict[str, Any]
    shipit_name: str
    recorder: Recorder
    project: Project


POOL = ("beta", "run", "worker-pools", "deploy", "worker", *WHERE, "--image", IMAGE)  # waits: the operation is answered
WORKER_YAML = """\
databases:
  main: {}
services:
  worker:
    kind: worker
    env: {MODE: batch}
    secrets: [STRIPE_KEY]
    databases: [main]
    cloud_run: {instances: 3, cpu: 2, memory: 1Gi, command: python worker.py, args: [--queue, jobs],
      labels: {team: core}, vpc: {mode: direct, egress: all-traffic}}
"""
JOB = ("run", "jobs", "deploy", "nightly", *WHERE, "--image", image("api"))
JOB_YAML = """\
databases:
  main: {}
services:
  api: {databases: [main]}
jobs:
  nightly:
    service: api
    command: python report.py
    args: [--since, 1d]
    env: {MODE: batch}
    secrets: [STRIPE_KEY]
    databases: [main]
    cpu: 2
    memory: 1Gi
    tasks: 4
    parallelism: 2
    max_retries: 1
    timeout: 20m
"""

CASES: dict[str, Case] = {
    "pool": Case(
        "worker",
        (
            *POOL,
            "--command",
            "python,worker.py",
            "--args=--queue,jobs",
            "--set-env-vars",
            "MODE=batch",
            "--set-secrets",
            f"STRIPE_KEY={SECRET}:3,DATABASE_URL=acme-staging-main-url:3",
            "--cpu",
            "2",
            "--memory",
            "1Gi",
            "--scaling",
            "3",
            "--service-account",
            SA,
            "--network",
            NETWORK,
            "--subnet",
            SUBNET,
            "--vpc-egress",
            "all-traffic",
            "--set-cloudsql-instances",
            CONN,
            "--labels",
            "team=core",
        ),
        WORKER_YAML,
    ),
    # The alternatives of the rows above: a variables file, and Cloud SQL added rather than set.
    "pool-alternatives": Case(
        "worker",
        (
            *POOL,
            "--env-vars-file",
            "{env.yaml}",
            "--set-secrets",
            f"STRIPE_KEY={SECRET}:3,DATABASE_URL=acme-staging-main-url:3",
            "--network",
            NETWORK,
            "--subnet",
            SUBNET,
            "--vpc-egress",
            "all-traffic",
            "--add-cloudsql-instances",
            CONN,
        ),
        WORKER_YAML,
        (("env.yaml", "MODE: batch\n"),),
    ),
    "job": Case(
        "job",
        (
            *JOB,
            "--command",
            "python,report.py",
            "--args=--since,1d",
            "--set-env-vars",
            "MODE=batch",
            "--set-secrets",
            f"STRIPE_KEY={SECRET}:3,DATABASE_URL=acme-staging-main-url:3",
            "--set-cloudsql-instances",
            CONN,
            "--vpc-connector",
            CONNECTOR,
            "--vpc-egress",
            "private-ranges-only",
            "--cpu",
            "2",
            "--memory",
            "1Gi",
            "--tasks",
            "4",
            "--parallelism",
            "2",
            "--max-retries",
            "1",
            "--task-timeout",
            "1200",
            "--service-account",
            SA,
            "--labels",
            "managed-by=shipit",
        ),
        JOB_YAML,
    ),
    "job-alternatives": Case(
        "job",
        (
            *JOB,
            "--env-vars-file",
            "{env.yaml}",
            "--set-secrets",
            f"STRIPE_KEY={SECRET}:3,DATABASE_URL=acme-staging-main-url:3",
            "--set-cloudsql-instances",
            CONN,
            "--vpc-connector",
            CONNECTOR,
            "--command",
            "python,report.py",
            "--args=--since,1d",
            "--cpu",
            "2",
            "--memory",
            "1Gi",
            "--tasks",
            "4",
            "--parallelism",
            "2",
            "--max-retries",
            "1",
            "--task-timeout",
            "1200",
            "--service-account",
            SA,
        ),
        JOB_YAML,
        (("env.yaml", "MODE: batch\n"),),
    ),
    # Direct VPC egress instead of the connector.
    "job-direct": Case(
        "job",
        (
            *JOB,
            "--set-secrets",
            "DATABASE_URL=acme-staging-main-url:3",
            "--set-cloudsql-instances",
            CONN,
            "--network",
            NETWORK,
            "--subnet",
            SUBNET,
            "--vpc-egress",
            "all-traffic",
        ),
        JOB_YAML.replace(
            "    databases: [main]\n    cpu",
            "    databases: [main]\n    vpc: {mode: direct, egress: all-traffic}\n    cpu",
        ),
    ),
    "split": Case(
        "worker",
        (
            "beta",
            "run",
            "worker-pools",
            "update-instance-split",
            "worker",
            *WHERE,
            "--async",
            "--to-revisions",
            "{ready}=90,LATEST=10",
        ),
        WORKER_YAML,
    ),
    "promote": Case(
        "worker",
        ("beta", "run", "worker-pools", "update-instance-split", "worker", *WHERE, "--async", "--to-latest"),
        WORKER_YAML,
    ),
    "rollback": Case(
        "worker",
        (
            "beta",
            "run",
            "worker-pools",
            "update-instance-split",
            "worker",
            *WHERE,
            "--async",
            "--to-revisions",
            "{first}=100",
        ),
        WORKER_YAML,
    ),
    "scheduler": Case(
        "scheduler",
        (
            "scheduler",
            "jobs",
            "create",
            "http",
            "acme-staging-nightly",
            "--project",
            "acme-staging",
            "--location",
            "us-central1",
            "--quiet",
            "--schedule",
            "0 3 * * *",
            "--time-zone",
            "Europe/Paris",
            "--uri",
            f"https://run.googleapis.com/v2/{PARENT}/jobs/nightly:run",
            "--http-method",
            "POST",
            "--oauth-service-account-email",
            "acme-staging-nightly-cron@acme-staging.iam.gserviceaccount.com",
            "--oauth-token-scope",
            "https://www.googleapis.com/auth/cloud-platform",
        ),
        JOB_YAML + "    schedule: '0 3 * * *'\n    time_zone: Europe/Paris\n",
    ),
}


def _name(g: dict[str, Any], s: dict[str, Any], o: Outcome) -> None:
    assert g["name"] == o.shipit_name, (g["name"], o.shipit_name)


def _upsert(g: dict[str, Any], s: dict[str, Any], o: Outcome) -> None:
    # Documented difference: gcloud upserts; shipit creates (and updates an existing pool with its etag).
    assert o.recorder.grpc is not None
    assert "/google.cloud.run.v2.WorkerPools/UpdateWorkerPool" in o.recorder.grpc.calls
    assert [m for m, _ in o.recorder.grpc.writes] == ["UpdateWorkerPool"]
    assert o.project.writes() == ["run.projects.locations.workerPools.create"], o.project.writes()


def _labels(user: dict[str, str]) -> Check:
    def check(g: dict[str, Any], s: dict[str, Any], o: Outcome) -> None:
        # Documented difference: shipit adds its own labels to the user's.
        for where, mine in ((g["labels"], s["labels"]), (g["template"]["labels"], s["template"]["labels"])):
            assert where == user, where
            assert {k: v for k, v in mine.items() if k in user} == user
            assert "managed-by" in mine

    return check


def _shipit_labels(g: dict[str, Any], s: dict[str, Any], o: Outcome) -> None:
    _labels({"team": "core"})(g, s, o)
    assert {"shipit-release", "shipit-git-sha"} <= set(s["labels"])


def _cloudsql(template: str) -> Check:
    def check(g: dict[str, Any], s: dict[str, Any], o: Outcome) -> None:
        want = {"name": "cloudsql", "cloudSqlInstance": {"instances": [CONN]}}
        assert _get(g, f"{template}.volumes{{cloudsql}}") == want == _get(s, f"{template}.volumes{{cloudsql}}")
        # Documented difference: shipit mounts the socket directory at /cloudsql; gcloud mounts nothing.
        assert _get(g, f"{template}.containers[0].volumeMounts{{cloudsql}}") is None
        assert _get(s, f"{template}.containers[0].volumeMounts{{cloudsql}}") == {
            "name": "cloudsql",
            "mountPath": "/cloudsql",
        }

    return check


def _secret_files_refused(g: dict[str, Any], s: dict[str, Any], o: Outcome) -> None:
    # gcloud refuses a secret file for a worker pool; so does `shipit validate`, before any request.
    from shipit.config import load_config
    from shipit.errors import ConfigError

    with recording(grpc=True) as rec:
        result = run_gcloud(rec, [*POOL, "--set-secrets", f"/secrets/sa.json={SECRET}:3"])
    assert result.returncode != 0 and "Secrets volume mount is not supported for Worker Pools" in result.stderr
    assert rec.grpc is not None and not rec.grpc.writes
    path = o.project.root / "secret-files.yaml"
    text = (o.project.root / "shipit.yaml").read_text()
    mount = "    secret_files: {/secrets/sa.json: STRIPE_KEY}\n"
    path.write_text(text.replace("    kind: worker\n", "    kind: worker\n" + mount))
    with pytest.raises(ConfigError, match="worker pools cannot mount secrets as files"):
        load_config(path, "secret-files.yaml")
    assert not any(v.get("secret") for v in s["template"].get("volumes", []))


def _split(g: dict[str, Any], s: dict[str, Any], o: Outcome) -> None:
    assert g["instanceSplits"] == s["instanceSplits"], (g["instanceSplits"], s["instanceSplits"])


def _scheduler(g: dict[str, Any], s: dict[str, Any], o: Outcome) -> None:
    body = next(b for _, path, b in o.recorder.writes if path.startswith("/v1/projects/") and "/jobs" in path)
    assert body == _terraform_scheduler_job(o.project) | {"retryConfig": SCHEDULER_RETRY}, body


# What `gcloud scheduler jobs create http` sends unasked: Cloud Scheduler's own defaults, which the
# Terraform leaves unset (the difference the row states).
SCHEDULER_RETRY = {"retryCount": 0, "minBackoffDuration": "5s", "maxBackoffDuration": "3600s", "maxDoublings": 5}


def _terraform_scheduler_job(project: Project) -> dict[str, Any]:
    """The Cloud Scheduler job the generated Terraform declares for jobs.nightly, as the REST body."""
    import hcl2
    from hcl2.utils import SerializationOptions

    from shipit.config import load_config, resolve_target
    from shipit.render.terraform import render_infra

    target = resolve_target(load_config(project.root / "shipit.yaml", "shipit.yaml"), "staging")
    files = render_infra([target])
    options = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)
    (module,) = hcl2.loads(files["environments/staging/main.tf"], serialization_options=options)["module"]
    inputs = module["app"]
    job = next(
        body["job"]
        for text in files.values()
        if "google_cloud_scheduler_job" in text
        for doc in [hcl2.loads(text, serialization_options=options)]
        for entry in doc.get("resource", [])
        for rtype, body in entry.items()
        if rtype == "google_cloud_scheduler_job"
    )
    values = inputs["scheduled_jobs"]["nightly"]
    email = f"{values['account_id']}@acme-staging.iam.gserviceaccount.com"

    def sub(text: str) -> str:
        for ref, value in {
            "${var.project}": inputs["project"],
            "${var.region}": inputs["region"],
            "${var.name_prefix}": inputs["name_prefix"],
            "${each.key}": "nightly",
            "${each.value.schedule}": values["schedule"],
            "${each.value.time_zone}": values["time_zone"],
            "${google_service_account.scheduler[each.key].email}": email,
        }.items():
            text = text.replace(ref, value)
        return text

    (target_block,) = job["http_target"]
    (oauth,) = target_block["oauth_token"]
    return {
        "name": f"projects/acme-staging/locations/us-central1/jobs/{sub(job['name'])}",
        "schedule": sub(job["schedule"]),
        "timeZone": sub(job["time_zone"]),
        "httpTarget": {
            "httpMethod": target_block["http_method"],
            "uri": sub(target_block["uri"]),
            "oauthToken": {"serviceAccountEmail": sub(oauth["service_account_email"]), "scope": oauth["scope"]},
        },
    }


WORKER_ROWS: dict[str, Row] = {
    "`WORKER_POOL` (positional), `--region`": Row(("pool",), check=lambda g, s, o: (_name(g, s, o), _upsert(g, s, o))),
    "`--image`": Row(("pool",), (f"{C0}.image",)),
    "`--command`, `--args`": Row(("pool",), (f"{C0}.command", f"{C0}.args")),
    "`--set-env-vars`, `--env-vars-file`": Row(("pool", "pool-alternatives"), (f"{C0}.env{{MODE}}",)),
    "`--set-secrets VAR=SECRET:VERSION`": Row(
        ("pool", "pool-alternatives"), (f"{C0}.env{{STRIPE_KEY}}", f"{C0}.env{{DATABASE_URL}}")
    ),
    "`--set-secrets /PATH=SECRET:VERSION`": Row(("pool",), check=_secret_files_refused),
    "`--cpu`, `--memory`": Row(("pool",), (f"{C0}.resources.limits",)),
    "`--scaling=N`": Row(("pool",), ("scaling",)),
    "`--service-account`": Row(("pool",), ("template.serviceAccount",)),
    "`--network`, `--subnet`, `--vpc-egress`": Row(("pool", "pool-alternatives"), ("template.vpcAccess",)),
    "`--set-cloudsql-instances`, `--add-cloudsql-instances`": Row(
        ("pool", "pool-alternatives"), check=_cloudsql("template")
    ),
    "`--labels`": Row(("pool",), check=_shipit_labels),
    "`gcloud beta run worker-pools update-instance-split --to-revisions`": Row(("split",), check=_split),
    "`gcloud beta run worker-pools update-instance-split --to-latest`": Row(("promote",), check=_split),
    "`gcloud beta run worker-pools update-instance-split --to-revisions REV=100`": Row(("rollback",), check=_split),
}

JOB_ROWS: dict[str, Row] = {
    "`JOB` (positional), `--region`": Row(("job",), check=_name),
    "`--image`": Row(("job",), (f"{T0}.image",)),
    "`--command`, `--args`": Row(("job",), (f"{T0}.command", f"{T0}.args")),
    "`--set-env-vars`, `--env-vars-file`": Row(("job", "job-alternatives"), (f"{T0}.env{{MODE}}",)),
    "`--set-secrets`": Row(("job",), (f"{T0}.env{{STRIPE_KEY}}", f"{T0}.env{{DATABASE_URL}}")),
    "`--set-cloudsql-instances`": Row(("job",), check=_cloudsql(TASK)),
    "`--vpc-connector`, `--vpc-egress`": Row(("job",), (f"{TASK}.vpcAccess",)),
    "`--network`, `--subnet`": Row(("job-direct",), (f"{TASK}.vpcAccess",)),
    "`--cpu`, `--memory`": Row(("job",), (f"{T0}.resources.limits",)),
    "`--tasks`": Row(("job",), ("template.taskCount",)),
    "`--parallelism`": Row(("job",), ("template.parallelism",)),
    "`--max-retries`": Row(("job",), (f"{TASK}.maxRetries",)),
    "`--task-timeout`": Row(("job",), (f"{TASK}.timeout",)),
    "`--service-account`": Row(("job",), (f"{TASK}.serviceAccount",)),
    "`--labels`": Row(("job",), check=_labels({"managed-by": "shipit"})),
    "`gcloud scheduler jobs create http --schedule --time-zone --uri=...:run --oauth-service-account-email`": Row(
        ("scheduler",), check=_scheduler
    ),
}

WORKER_SECTION = "## `gcloud beta run worker-pools deploy`"
JOB_SECTION = "## `gcloud run jobs deploy` (`jobs:`)"


def _rows(heading: str) -> list[str]:
    section = DOC.read_text().split(heading, 1)[1].split("\n## ", 1)[0]
    return [line.split(" | ")[0].removeprefix("| ").strip() for line in section.splitlines() if line.startswith("| `")]


def test_every_worker_pool_row_is_compared_with_gcloud() -> None:
    assert _rows(WORKER_SECTION) == list(WORKER_ROWS)


def test_every_job_row_is_compared_with_gcloud() -> None:
    assert _rows(JOB_SECTION) == list(JOB_ROWS)


def _gcloud_args(case: Case, directory: Path) -> list[str]:
    args = list(case.gcloud)
    for name, text in case.files:
        (directory / name).write_text(text)
        args = [str(directory / name) if a == "{" + name + "}" else a for a in args]
    return args


def _write(project: Project, case: Case) -> None:
    (project.root / "shipit.yaml").write_text(
        "version: 1\napp: acme\nenvironments:\n  staging: {project: acme-staging, region: us-central1}\n" + case.yaml
    )


def _worker_ctx(project: Project, image_ref: str, canary: int | None = None) -> Any:
    from dataclasses import replace

    ctx = project.ctx({"worker": image_ref}, {"infra": INFRA, "secrets": SECRETS})
    return replace(ctx, options=replace(ctx.options, canary=canary))


def _shipit_worker(project: Project) -> tuple[dict[str, Any], str]:
    from shipit.steps import workers

    ctx = _worker_ctx(project, IMAGE)
    plan = workers.plan(ctx)
    change = plan.changes[0]
    result = workers.apply(ctx, plan)
    assert result["worker"]["ok"], result
    return thaw_json(change.payload.desired), change.payload.full_name


def _deploy_worker(project: Project, ref: str, canary: int | None = None) -> None:
    from shipit.steps import workers

    ctx = _worker_ctx(project, ref, canary)
    workers.apply(ctx, workers.plan(ctx))


POOL_NAME = f"{PARENT}/workerPools/worker"
IMAGE_B = image("worker", "sha256:" + "b" * 64)


def _live_pool(project: Project) -> dict[str, Any]:
    pool: dict[str, Any] = project.fake.run.worker_pools.pools[POOL_NAME]
    return {k: v for k, v in pool.items() if not k.startswith("_")}


def _shipit_split(name: str, project: Project) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The instance splits shipit leaves on the fake's worker pool for case NAME, the pool gcloud starts
    from (the fake's, before shipit's split change) and the first revision's id."""
    from shipit.steps import workers

    _deploy_worker(project, IMAGE)
    first = project.fake.run.worker_pools.revision_names(POOL_NAME)[0]
    if name == "split":  # a 10% canary of a new image
        _deploy_worker(project, IMAGE_B, canary=10)
        # gcloud moves the instances of a pool settled on the first revision
        return {"instanceSplits": _live_pool(project)["instanceSplits"]}, _existing_pool(first), first
    if name == "promote":  # the canary finished
        _deploy_worker(project, IMAGE_B, canary=10)
        before = _live_pool(project)
        ctx = _worker_ctx(project, IMAGE_B)
        workers.apply_splits(ctx, workers.plan_promote(ctx))
    else:  # rolled back to the first revision
        _deploy_worker(project, IMAGE_B)
        before = _live_pool(project)
        ctx = _worker_ctx(project, IMAGE_B)
        workers.apply_splits(ctx, workers.plan_rollback(ctx, ["worker"]))
    return {"instanceSplits": _live_pool(project)["instanceSplits"]}, before, first


def _shipit_job(project: Project) -> tuple[dict[str, Any], str]:
    from shipit.steps import jobs

    ctx = project.ctx({"api": image("api")}, {"infra": INFRA, "secrets": SECRETS})
    plan = jobs.plan(ctx)
    change = plan.changes[0]
    jobs.apply(ctx, plan)  # the fake validates the request against Cloud Run's discovery document
    assert change.payload.full_name in project.fake.run.jobs.jobs, "the job was not created"
    return thaw_json(change.payload.desired), change.payload.full_name


def _existing_pool(revision: str) -> dict[str, Any]:
    name = f"{PARENT}/workerPools/worker"
    return {
        "name": name,
        "template": {"containers": [{"image": IMAGE}]},
        "scaling": {"manualInstanceCount": 3},
        "instanceSplits": [{"type": "INSTANCE_SPLIT_ALLOCATION_TYPE_LATEST", "percent": 100}],
        "latestReadyRevision": f"{name}/revisions/{revision}",
        "latestCreatedRevision": f"{name}/revisions/{revision}",
    }


def run_case(name: str, project: Project, tmp_path: Path) -> Outcome:
    case = CASES[name]
    _write(project, case)
    pool = None
    args = _gcloud_args(case, tmp_path)
    splits = name in ("split", "promote", "rollback")
    if splits:
        shipit, pool, first = _shipit_split(name, project)
        full = POOL_NAME
        args = [a.replace("{ready}", first).replace("{first}", first) for a in args]
    with recording(grpc=case.kind == "worker", pool=pool) as rec:
        result = run_gcloud(rec, args)
    assert result.returncode == 0, result.stderr[-2000:]
    if case.kind == "worker":
        assert rec.grpc is not None and rec.grpc.pools(), rec.grpc and rec.grpc.calls
        gcloud = prune(rec.grpc.pools()[-1])
        if not splits:
            shipit, full = _shipit_worker(project)
    elif case.kind == "scheduler":
        gcloud, full = {}, ""
        shipit = {}
    else:
        job = next(b for b in reversed(rec.bodies("/jobs")) if b.get("kind") == "Job")
        gcloud = job_to_v2(job)
        meta = job.get("metadata") or {}
        gcloud["name"] = f"projects/{meta.get('namespace')}/locations/us-central1/jobs/{meta.get('name')}"
        shipit, full = _shipit_job(project)
    return Outcome(gcloud, shipit, full, rec, project)


@pytest.mark.parametrize("case", list(CASES))
def test_case_matches_gcloud(case: str, project: Project, tmp_path: Path) -> None:
    outcome = run_case(case, project, tmp_path)
    rows = {**{f"worker-pools {k}": v for k, v in WORKER_ROWS.items()}, **{f"jobs {k}": v for k, v in JOB_ROWS.items()}}
    mine = [flag for flag, row in rows.items() if case in row.cases]
    assert mine, f"case {case} checks no row"
    failures: list[str] = []
    for flag in mine:
        row = rows[flag]
        for path in row.fields:
            want, got = _get(outcome.gcloud, path), _get(outcome.shipit, path)
            if want is None or want != got:
                failures.append(f"{flag}: {path}: gcloud {want!r} != shipit {got!r}")
        if row.check is not None:
            try:
                row.check(outcome.gcloud, outcome.shipit, outcome)
            except (AssertionError, KeyError, StopIteration) as exc:
                failures.append(f"{flag}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("command", "heading"),
    [
        (("beta", "run", "worker-pools", "deploy"), WORKER_SECTION),
        (("run", "jobs", "deploy"), JOB_SECTION),
        (("beta", "run", "jobs", "deploy"), JOB_SECTION),
    ],
)
def test_every_flag_is_documented(command: tuple[str, ...], heading: str) -> None:
    """Every flag of the gcloud command is a row of its section, or named there as unsupported/expressed otherwise."""
    section = DOC.read_text().split(heading, 1)[1].split("\n## ", 1)[0]
    named = {f.replace("[no-]", "") for f in re.findall(r"--(?:\[no-\])?[a-z0-9-]+", section)}
    flags = _help_flags(*command)
    assert len(flags) > 30, sorted(flags)
    missing = sorted(f for f in flags if f not in named and f.replace("--no-", "--") not in named)
    assert not missing, f"not in {heading} of docs/gcloud-equivalence.md: {missing}"
