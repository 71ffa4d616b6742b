"""Every row of docs/gcloud-equivalence.md against the real `gcloud`: the request gcloud sends for the
documented flags (recorded by tests/gcloud_recorder.py, mapped from v1 to v2 by tests/gcloud_knative.py)
equals the request shipit sends for the documented shipit.yaml keys, field by field, or differs exactly
as the row says.

gcloud takes seconds to start, so rows share invocations: each BATCH is one gcloud command with the
flags of several rows, and one shipit deploy of a config with the matching keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.deploy.conftest import PARENT, Project, image, svc_name
from gcloud_knative import job_to_v2, to_v2, traffic_to_v2
from gcloud_recorder import Recorder, recording, run_gcloud
from shipit.plan import thaw_json

pytestmark = pytest.mark.gcloud

DOC = Path(__file__).resolve().parents[3] / "docs" / "gcloud-equivalence.md"
SA = "acme-api@acme-staging.iam.gserviceaccount.com"
CONN = "acme-staging:us-central1:acme-main"
CONNECTOR = f"{PARENT}/connectors/acme"
NETWORK = "projects/acme-staging/global/networks/acme"
SUBNET = "projects/acme-staging/regions/us-central1/subnetworks/acme"
INFRA = {
    "service_accounts": {"api": SA},
    "vpc_connector": CONNECTOR,
    "vpc_network": NETWORK,
    "vpc_subnetwork": SUBNET,
    "database_connection_names": {"main": CONN},
    "database_url_secrets": {"main": "acme-staging-main-url"},
}
SECRETS = {"K": "projects/x/secrets/acme-staging-K/versions/7"}
IMAGE = image("api")
WHERE = ["--project", "acme-staging", "--region", "us-central1", "--quiet"]
DEPLOY = ["run", "deploy", "api", *WHERE, "--async"]
BETA_DEPLOY = ["beta", *DEPLOY]
C0 = "template.containers[0]"


@dataclass(frozen=True)
class Batch:
    gcloud: tuple[str, ...]  # one gcloud command line (after `gcloud`)
    service_yaml: str  # services.api in shipit.yaml
    extra_yaml: str = ""


@dataclass(frozen=True)
class Row:
    batch: str
    fields: tuple[str, ...] = ()  # v2 paths compared for equality (gcloud mapped to v2 == shipit)
    # A documented difference or a non-field comparison: check(gcloud_v2, shipit_v2, recorder, project).
    check: Callable[[dict[str, Any], dict[str, Any], Recorder, Project], None] | None = None
    options: dict[str, Any] = field(default_factory=dict)


BATCHES: dict[str, Batch] = {
    # GA flags on a new service.
    "ga": Batch(
        (
            *DEPLOY,
            "--image",
            IMAGE,
            "--port",
            "3000",
            "--set-env-vars",
            "A=b",
            "--set-secrets",
            "K=acme-staging-K:7,/secrets/sa.json=acme-staging-K:7",
            "--cpu",
            "2",
            "--memory",
            "1Gi",
            "--no-cpu-throttling",
            "--no-cpu-boost",
            "--min-instances",
            "2",
            "--max-instances",
            "7",
            "--concurrency",
            "12",
            "--timeout",
            "300",
            "--execution-environment",
            "gen2",
            "--service-account",
            SA,
            "--ingress",
            "internal",
            "--labels",
            "team=core",
            "--session-affinity",
            "--startup-probe",
            "httpGet.path=/ready,httpGet.port=3000,periodSeconds=5,timeoutSeconds=1,failureThreshold=3",
            "--liveness-probe",
            "grpc.port=3000,grpc.service=health,periodSeconds=10,timeoutSeconds=1,failureThreshold=3",
            "--command",
            "gunicorn,app",
            "--args=--workers,2",
            "--description",
            "The API",
            "--set-custom-audiences",
            "https://api.example.com",
            "--no-invoker-iam-check",
            "--allow-unauthenticated",
        ),
        """{port: 3000, env: {A: b}, secrets: [K], secret_files: {/secrets/sa.json: K},
  cloud_run: {cpu: 2, memory: 1Gi, cpu_idle: false, startup_cpu_boost: false, min_instances: 2,
    max_instances: 7, concurrency: 12, timeout: 5m, execution_environment: gen2, ingress: internal,
    labels: {team: core}, session_affinity: true, command: gunicorn app, args: [--workers, '2'],
    description: The API, custom_audiences: [https://api.example.com], invoker_iam_disabled: true,
    allow_unauthenticated: true,
    probes: {startup: {path: /ready, period: 5s}, liveness: {type: grpc, service: health}}}}""",
    ),
    # GA: the defaults of a new service, connector VPC access and Cloud SQL, HTTP/2.
    "defaults": Batch(
        (
            *DEPLOY,
            "--image",
            IMAGE,
            "--vpc-connector",
            CONNECTOR,
            "--vpc-egress",
            "all-traffic",
            "--add-cloudsql-instances",
            CONN,
            "--use-http2",
        ),
        "{databases: [main], cloud_run: {vpc: {egress: all-traffic}, http2: true}}",
        "databases:\n  main: {}\n",
    ),
    # Beta flags: Direct VPC, manual service-level scaling, IAP, no default URL, volumes, sidecars.
    "beta": Batch(
        (
            *BETA_DEPLOY,
            "--network",
            NETWORK,
            "--subnet",
            SUBNET,
            "--scaling",
            "3",
            "--iap",
            "--no-default-url",
            "--add-volume",
            "name=data,type=cloud-storage,bucket=acme-data,readonly=true,mount-options=implicit-dirs;uid=1000",
            "--add-volume",
            "name=share,type=nfs,location=10.0.0.2:/export,readonly=true",
            "--add-volume",
            "name=cache,type=in-memory,size-limit=256Mi",
            "--container",
            "api",
            "--image",
            IMAGE,
            "--port",
            "8080",
            "--depends-on",
            "proxy",
            "--add-volume-mount",
            "volume=data,mount-path=/data",
            "--add-volume-mount",
            "volume=share,mount-path=/share",
            "--add-volume-mount",
            "volume=cache,mount-path=/cache",
            "--container",
            "proxy",
            "--image",
            "nginx:1.27",
            "--set-env-vars",
            "UPSTREAM=http://localhost:8080",
            "--startup-probe",
            "tcpSocket.port=9000,periodSeconds=5,timeoutSeconds=1,failureThreshold=3",
            "--add-volume-mount",
            "volume=cache,mount-path=/cache",
        ),
        """{cloud_run: {vpc: {mode: direct}, scaling: {manual_instances: 3}, iap: true,
    default_uri_disabled: true, depends_on: [proxy]},
  volumes: {data: {gcs: {bucket: acme-data, read_only: true, mount_options: [implicit-dirs, uid=1000]}, mount: /data},
    share: {nfs: {server: 10.0.0.2, path: /export, read_only: true}, mount: /share},
    cache: {empty_dir: {size_limit: 256Mi}, mount: /cache}},
  sidecars: {proxy: {image: 'nginx:1.27', env: {UPSTREAM: 'http://localhost:8080'},
    startup_probe: {type: tcp, port: 9000, period: 5s}, mounts: {cache: /cache}}}}""",
    ),
    # Beta: service-level automatic scaling bounds.
    "service-scaling": Batch(
        (*BETA_DEPLOY, "--image", IMAGE, "--min", "1", "--max", "5"),
        "{cloud_run: {scaling: {min_instances: 1, max_instances: 5}}}",
    ),
    # No flag: a readiness probe goes through `gcloud run services replace` with a YAML service.
    "replace": Batch(
        ("run", "services", "replace", "service.yaml", *WHERE[:-1]),
        "{cloud_run: {probes: {readiness: {path: /ready, period: 5s}}}}",
    ),
    # An existing service: a tagged, no-traffic revision (shipit: a staged rollout).
    "tag": Batch((*DEPLOY, "--image", image("api", "sha256:" + "b" * 64), "--no-traffic", "--tag", "next"), "{}"),
    "update-traffic": Batch(
        ("run", "services", "update-traffic", "api", *WHERE, "--to-revisions", "REV=90,LATEST=10"), "{}"
    ),
    "iam-binding": Batch(
        (
            "run",
            "services",
            "add-iam-policy-binding",
            "api",
            *WHERE,
            "--member",
            "serviceAccount:acme-staging-push@acme-staging.iam.gserviceaccount.com",
            "--role",
            "roles/run.invoker",
        ),
        "{}",
        "pubsub:\n  topics: {jobs: {}}\n  subscriptions:\n    jobs-api: {topic: jobs, push: {service: api}}\n",
    ),
}

READINESS_YAML = f"""\
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {{name: api, namespace: acme-staging}}
spec:
  template:
    spec:
      containers:
      - image: {IMAGE}
        ports: [{{containerPort: 8080}}]
        readinessProbe:
          httpGet: {{path: /ready, port: 8080}}
          periodSeconds: 5
          timeoutSeconds: 1
          failureThreshold: 3
"""


def _labels_subset(g: dict[str, Any], s: dict[str, Any], rec: Recorder, p: Project) -> None:
    # Documented difference: shipit adds managed-by, shipit-release and shipit-git-sha.
    assert g["labels"] == {"team": "core"} and g["template"]["labels"] == {"team": "core"}
    assert {k: v for k, v in s["labels"].items() if k == "team"} == g["labels"]
    assert {k: v for k, v in s["template"]["labels"].items() if k == "team"} == g["template"]["labels"]
    assert {"managed-by", "shipit-release", "shipit-git-sha"} <= set(s["template"]["labels"])


def _policy(rec: Recorder) -> list[dict[str, Any]]:
    bodies = rec.bodies(":setIamPolicy")
    assert bodies, "gcloud set no IAM policy"
    return sorted(bodies[-1]["policy"]["bindings"], key=lambda b: b["role"])


def _iam(member: str) -> Callable[[dict[str, Any], dict[str, Any], Recorder, Project], None]:
    def check(g: dict[str, Any], s: dict[str, Any], rec: Recorder, p: Project) -> None:
        binding = {"role": "roles/run.invoker", "members": [member]}
        assert binding in _policy(rec)
        assert binding in p.fake.run.iam.get(svc_name("api"))["bindings"]

    return check


def _secret_file(g: dict[str, Any], s: dict[str, Any], rec: Recorder, p: Project) -> None:
    # Documented difference: the volume's name (gcloud: random; shipit: from the directory).
    def strip(v2: dict[str, Any]) -> tuple[Any, Any]:
        vol = next(v for v in v2["template"]["volumes"] if "secret" in v)
        mount = next(m for m in v2["template"]["containers"][0]["volumeMounts"] if m["name"] == vol["name"])
        return vol["secret"], mount["mountPath"]

    assert strip(g) == strip(s)


def _tag(g: dict[str, Any], s: dict[str, Any], rec: Recorder, p: Project) -> None:
    # gcloud names the new revision client-side and tags it at once (all traffic pinned to the old one);
    # shipit tags LATEST at 0% while the new revision is checked, then leaves the tag on that revision.
    put = rec.bodies("/services/api")[-1]
    traffic = traffic_to_v2(put["spec"]["traffic"])
    new = put["spec"]["template"]["metadata"]["name"]
    assert {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": new, "tag": "next"} in traffic
    assert sum(t.get("percent", 0) for t in traffic if t.get("revision") == new) == 0
    final = p.service("api")["traffic"]
    shipit_new = p.revisions("api")[-1]
    assert {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": shipit_new, "tag": "next"} in final
    assert any(st.get("tag") == "next" and st.get("uri") for st in p.service("api")["trafficStatuses"])


def _update_traffic(g: dict[str, Any], s: dict[str, Any], rec: Recorder, p: Project) -> None:
    put = rec.bodies("/services/api")[-1]
    gcloud_traffic = traffic_to_v2(put["spec"]["traffic"])
    old = p.revisions("api")[0]
    gcloud_traffic = [{**t, "revision": old} if t.get("revision") == "REV" else t for t in gcloud_traffic]
    shipit_traffic = [{k: v for k, v in t.items() if k != "tag"} for t in p.service("api")["traffic"]]
    assert sorted(map(str, gcloud_traffic)) == sorted(map(str, shipit_traffic))


ROWS: dict[str, Row] = {
    "`SERVICE` (positional)": Row("ga", check=lambda g, s, r, p: _created(r, p)),
    "`--project`, `--region`": Row("ga", check=lambda g, s, r, p: _created(r, p)),
    "`--image`": Row("ga", (f"{C0}.image",)),
    "`--port`": Row("ga", (f"{C0}.ports",)),
    "`--[no-]use-http2`": Row("defaults", (f"{C0}.ports",)),
    "`--set-env-vars`": Row("ga", (f"{C0}.env{{A}}",)),
    "`--set-secrets VAR=SECRET:VERSION`": Row("ga", (f"{C0}.env{{K}}",)),
    "`--set-secrets VAR=SECRET:VERSION` (database URL)": Row(
        "defaults",
        check=lambda g, s, r, p: (
            _get(s, f"{C0}.env{{DATABASE_URL}}.valueSource.secretKeyRef.secret") == "acme-staging-main-url"
            or pytest.fail("no DATABASE_URL secret")
        ),
    ),
    "`--set-secrets /PATH=SECRET:VERSION`": Row("ga", check=_secret_file),
    "`--cpu`": Row("ga", (f"{C0}.resources.limits.cpu",)),
    "`--memory`": Row("ga", (f"{C0}.resources.limits.memory",)),
    "`--[no-]cpu-throttling`": Row("ga", check=lambda g, s, r, p: _false(r, s, "cpu-throttling", "cpuIdle")),
    "`--[no-]cpu-boost`": Row("ga", check=lambda g, s, r, p: _false(r, s, "startup-cpu-boost", "startupCpuBoost")),
    "`--[no-]cpu-boost` (not given, new service)": Row("defaults", (f"{C0}.resources.startupCpuBoost",)),
    "`--min-instances`": Row("ga", ("template.scaling.minInstanceCount",)),
    "`--max-instances`": Row("ga", ("template.scaling.maxInstanceCount",)),
    "`--min`, `--max` (beta)": Row("service-scaling", ("scaling",)),
    "`--scaling` (beta)": Row("beta", ("scaling",)),
    "`--concurrency`": Row("ga", ("template.maxInstanceRequestConcurrency",)),
    "`--timeout`": Row("ga", ("template.timeout",)),
    "`--execution-environment`": Row("ga", ("template.executionEnvironment",)),
    "`--service-account`": Row("ga", ("template.serviceAccount",)),
    "`--vpc-connector`": Row("defaults", ("template.vpcAccess.connector",)),
    "`--vpc-egress`": Row("defaults", ("template.vpcAccess.egress",)),
    "`--network`, `--subnet`": Row("beta", ("template.vpcAccess.networkInterfaces",)),
    "`--add-cloudsql-instances`": Row("defaults", ("template.volumes{cloudsql}",)),
    "`--ingress`": Row("ga", ("ingress",)),
    "`--labels`": Row("ga", check=_labels_subset),
    "`--[no-]session-affinity`": Row("ga", ("template.sessionAffinity",)),
    "`--startup-probe`": Row("ga", (f"{C0}.startupProbe",)),
    "`--liveness-probe`": Row("ga", (f"{C0}.livenessProbe",)),
    "`readinessProbe` (YAML, `gcloud run services replace`)": Row("replace", (f"{C0}.readinessProbe",)),
    "`--command`": Row("ga", (f"{C0}.command",)),
    "`--args`": Row("ga", (f"{C0}.args",)),
    "`--description`": Row("ga", ("description",)),
    "`--set-custom-audiences`": Row("ga", ("customAudiences",)),
    "`--[no-]invoker-iam-check`": Row("ga", ("invokerIamDisabled",)),
    "`--[no-]iap` (beta)": Row("beta", ("iapEnabled",)),
    "`--[no-]default-url` (beta)": Row("beta", ("defaultUriDisabled",)),
    "`--add-volume type=cloud-storage` (beta)": Row("beta", ("template.volumes{data}", f"{C0}.volumeMounts{{data}}")),
    "`--add-volume type=nfs` (beta)": Row("beta", ("template.volumes{share}", f"{C0}.volumeMounts{{share}}")),
    "`--add-volume type=in-memory` (beta)": Row("beta", ("template.volumes{cache}", f"{C0}.volumeMounts{{cache}}")),
    "`--container` (sidecars)": Row(
        "beta",
        (
            "template.containers[1].name",
            "template.containers[1].image",
            "template.containers[1].env",
            "template.containers[1].startupProbe",
            "template.containers[1].volumeMounts",
        ),
    ),
    "`--depends-on`": Row("beta", (f"{C0}.dependsOn", f"{C0}.name")),
    "`--[no-]allow-unauthenticated`": Row("ga", check=_iam("allUsers")),
    "`gcloud run services add-iam-policy-binding --member=serviceAccount:PUSH --role=roles/run.invoker`": Row(
        "iam-binding", check=_iam("serviceAccount:acme-staging-push@acme-staging.iam.gserviceaccount.com")
    ),
    "`--no-traffic --tag TAG`": Row("tag", check=_tag),
    "`gcloud run services update-traffic --to-revisions`": Row("update-traffic", check=_update_traffic),
}


def _false(rec: Recorder, shipit: dict[str, Any], annotation: str, field: str) -> None:
    """A `--no-X` flag: gcloud's annotation says False, shipit's field is false (omitted in proto3 JSON)."""
    knative = next(b for b in reversed(rec.bodies("/services")) if b.get("kind") == "Service")
    assert knative["spec"]["template"]["metadata"]["annotations"][f"run.googleapis.com/{annotation}"] == "False"
    assert _get(shipit, f"{C0}.resources").get(field) in (None, False)


def _created(rec: Recorder, p: Project) -> None:
    assert any(path.endswith("/namespaces/acme-staging/services") for _, path, _ in rec.writes)
    assert svc_name("api") in p.fake.run.services


def _get(obj: Any, path: str) -> Any:
    """A value at a dotted path; [N] indexes a list, {NAME} picks the item named NAME."""
    for part in re.findall(r"[^.\[\]{}]+|\[\d+\]|\{[^}]*\}", path):
        if obj is None:
            return None
        if part.startswith("["):
            index = int(part[1:-1])
            obj = obj[index] if isinstance(obj, list) and index < len(obj) else None
        elif part.startswith("{"):
            obj = next((i for i in obj or [] if i.get("name") == part[1:-1]), None)
        else:
            obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def doc_rows() -> list[str]:
    text = DOC.read_text()
    section = text.split("## gcloud run deploy", 1)[1].split("\n## ", 1)[0]
    return [line.split(" | ")[0].removeprefix("| ").strip() for line in section.splitlines() if line.startswith("| `")]


def test_every_doc_row_is_compared_with_gcloud() -> None:
    assert doc_rows() == list(ROWS)


@dataclass
class Outcome:
    gcloud: dict[str, Any]
    shipit: dict[str, Any]
    recorder: Recorder
    project: Project


def _existing_v1() -> dict[str, Any]:
    rev = "api-00001-abc"
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "api", "namespace": "acme-staging", "generation": 1, "annotations": {}, "labels": {}},
        "spec": {
            "template": {"metadata": {"name": rev, "annotations": {}}, "spec": {"containers": [{"image": IMAGE}]}},
            "traffic": [{"latestRevision": True, "percent": 100}],
        },
        "status": {
            "observedGeneration": 1,
            "latestReadyRevisionName": rev,
            "latestCreatedRevisionName": rev,
            "traffic": [{"revisionName": rev, "percent": 100, "latestRevision": True}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def _run_batch(name: str, project: Project, tmp_path: Path) -> Outcome:
    batch = BATCHES[name]
    existing = name in ("tag", "update-traffic", "iam-binding")
    args = list(batch.gcloud)
    with recording(_existing_v1() if existing else None) as rec:
        if name == "replace":
            (Path(tmp_path) / "service.yaml").write_text(READINESS_YAML)
            args[args.index("service.yaml")] = str(Path(tmp_path) / "service.yaml")
        result = run_gcloud(rec, args)
    assert result.returncode == 0, result.stderr[-2000:]
    project.write("api: " + batch.service_yaml + "\n", batch.extra_yaml)
    results = {"infra": INFRA, "secrets": SECRETS}
    created: list[Any] = []
    if existing:
        project.deploy({"api": IMAGE}, results, release_id="r1")
    if name == "tag":
        project.deploy({"api": image("api", "sha256:" + "b" * 64)}, results, staged=True, tag="next")
    elif name == "update-traffic":
        project.deploy({"api": image("api", "sha256:" + "b" * 64)}, results, canary=10)
    elif not existing:
        plan, out = project.deploy({"api": IMAGE}, results, release_id="r1")
        assert out["api"]["ok"], out
        created = list(plan.changes)  # its payload's desired service is the body shipit created
    # Plans hold frozen JSON (tuples, read-only mappings): thawed, it is the body the client sends.
    shipit = thaw_json(created[0].payload.desired) if created else {}
    services = rec.bodies("/services") + rec.bodies("/services/api")
    knative = next((b for b in reversed(services) if b.get("kind") == "Service"), {})
    return Outcome(to_v2(knative) if knative else {}, shipit, rec, project)


@pytest.mark.parametrize("batch", list(BATCHES))
def test_batch_matches_gcloud(batch: str, project: Project, tmp_path: Path) -> None:
    outcome = _run_batch(batch, project, tmp_path)
    rows = [flag for flag, row in ROWS.items() if row.batch == batch]
    assert rows, f"batch {batch} checks no row"
    failures: list[str] = []
    for flag in rows:
        row = ROWS[flag]
        for path in row.fields:
            want, got = _get(outcome.gcloud, path), _get(outcome.shipit, path)
            if want is None or want != got:
                failures.append(f"{flag}: {path}: gcloud {want!r} != shipit {got!r}")
        if row.check is not None:
            try:
                row.check(outcome.gcloud, outcome.shipit, outcome.recorder, outcome.project)
            except AssertionError as exc:
                failures.append(f"{flag}: {exc}")
    assert not failures, "\n".join(failures)


def _help_flags(*command: str) -> set[str]:
    """Flag names (`--[no-]x` as `--x`) of the FLAGS section of `gcloud COMMAND --help`."""
    with recording() as rec:
        result = run_gcloud(rec, [*command, "--help"])
    assert result.returncode == 0, result.stderr[-1000:]
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    flags_section = text.split("\nFLAGS\n", 1)[-1].split("\nGCLOUD WIDE FLAGS\n", 1)[0]
    return {f.replace("[no-]", "") for f in re.findall(r"^ +(--(?:\[no-\])?[a-z0-9-]+)", flags_section, re.M)}


def test_every_gcloud_run_deploy_flag_is_documented() -> None:
    """Every flag of `gcloud run deploy` (GA and beta) is a row, or named as expressed otherwise/unsupported."""
    doc = DOC.read_text().split("## gcloud run jobs deploy", 1)[0]
    named = {f.replace("[no-]", "") for f in re.findall(r"--(?:\[no-\])?[a-z0-9-]+", doc)}
    flags = _help_flags("run", "deploy") | _help_flags("beta", "run", "deploy")
    assert len(flags) > 80, sorted(flags)
    missing = sorted(f for f in flags if f not in named and f.replace("--no-", "--") not in named)
    assert not missing, f"not in docs/gcloud-equivalence.md: {missing}"


# -- gcloud run jobs deploy: a database's migration job ------------------------------------------------

JOB_TASK = "template.template"
JOB_ROWS: dict[str, tuple[str, ...]] = {
    "`--image`": (f"{JOB_TASK}.containers[0].image",),
    "`--command`": (f"{JOB_TASK}.containers[0].command",),
    "`--task-timeout`": (f"{JOB_TASK}.timeout",),
    "`--tasks`": ("template.taskCount",),
    "`--max-retries`": (f"{JOB_TASK}.maxRetries",),
    "`--set-secrets VAR=SECRET:VERSION` (database URL)": (f"{JOB_TASK}.containers[0].env{{DATABASE_URL}}",),
    "`--set-cloudsql-instances`": (f"{JOB_TASK}.volumes{{cloudsql}}",),
    "`--vpc-connector`, `--vpc-egress`": (f"{JOB_TASK}.vpcAccess",),
    "`--service-account`": (f"{JOB_TASK}.serviceAccount",),
}
JOB_FLAGS = (
    "run",
    "jobs",
    "deploy",
    "acme-migrate-main",
    *WHERE,
    "--async",
    "--image",
    IMAGE,
    "--command",
    "alembic,upgrade,head",
    "--task-timeout",
    "600",
    "--tasks",
    "1",
    "--max-retries",
    "0",
    "--set-secrets",
    "DATABASE_URL=acme-staging-main-url:3",
    "--set-cloudsql-instances",
    CONN,
    "--vpc-connector",
    CONNECTOR,
    "--vpc-egress",
    "private-ranges-only",
    "--service-account",
    SA,
)


def job_doc_rows() -> list[str]:
    section = DOC.read_text().split("## gcloud run jobs deploy", 1)[1].split("\n## ", 1)[0]
    return [line.split(" | ")[0].removeprefix("| ").strip() for line in section.splitlines() if line.startswith("| `")]


def test_every_job_doc_row_is_compared_with_gcloud() -> None:
    assert job_doc_rows() == list(JOB_ROWS)


def test_migration_job_matches_gcloud_run_jobs_deploy(project: Project) -> None:
    from shipit.render.cloudrun_job import render_job
    from shipit.steps.services.inputs import resolve_inputs

    with recording() as rec:
        result = run_gcloud(rec, JOB_FLAGS)
    assert result.returncode == 0, result.stderr[-2000:]
    job = next(b for b in rec.bodies("/jobs") if b.get("kind") == "Job")
    gcloud = job_to_v2(job)
    project.write(
        "api: {databases: [main]}\n", "databases:\n  main: {migrate: {command: alembic upgrade head, timeout: 10m}}\n"
    )
    infra = {**INFRA, "database_url_versions": {"main": "3"}}
    ctx = project.ctx({"api": IMAGE}, {"infra": infra, "secrets": SECRETS})
    inputs, _ = resolve_inputs(ctx, "api", None, {}, set())
    config = ctx.target.config
    migrate = config.databases["main"].migrate
    assert migrate is not None
    shipit = render_job(config.services["api"], inputs, migrate)
    failures = [
        f"{flag}: {path}: gcloud {_get(gcloud, path)!r} != shipit {_get(shipit, path)!r}"
        for flag, paths in JOB_ROWS.items()
        for path in paths
        if _get(gcloud, path) is None or _get(gcloud, path) != _get(shipit, path)
    ]
    assert not failures, "\n".join(failures)
