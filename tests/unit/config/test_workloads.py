"""Workers (kind: worker) and jobs in shipit.yaml: what Cloud Run cannot express is a located error."""

from __future__ import annotations

from config_support import Errors, Load

HEAD = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
"""


def test_a_worker_with_http_settings_is_rejected_at_each_key(errors: Errors) -> None:
    text = HEAD + (
        "services:\n"
        "  api: {env: {W: '${services.worker.url}'}}\n"
        "  worker:\n"
        "    kind: worker\n"
        "    port: 9000\n"
        "    health: {path: /health}\n"
        "    cloud_run: {ingress: internal, max_instances: 3, vpc: {mode: connector}}\n"
    )
    assert errors(text) == [
        "shipit.yaml:6:18: services.api.env.W: ${services.worker.url}: 'worker' is a worker, it has no URL "
        "(send it work through Pub/Sub)",
        "shipit.yaml:9:11: services.worker.port: a worker has no port (Cloud Run worker pools serve no requests) "
        "(remove port)",
        "shipit.yaml:10:13: services.worker.health: a worker has no URL to health-check (remove health)",
        "shipit.yaml:11:26: services.worker.cloud_run.ingress: ingress is for HTTP services, not workers "
        "(remove ingress)",
        "shipit.yaml:11:51: services.worker.cloud_run.max_instances: max_instances is for HTTP services, not workers "
        "(use cloud_run.instances for a worker's size)",
        "shipit.yaml:11:66: services.worker.cloud_run.vpc.mode: worker pools support Direct VPC egress only, not a "
        "VPC connector (set vpc: {mode: direct})",
    ]


def test_instances_only_for_workers_and_pull_only_to_workers(errors: Errors) -> None:
    text = HEAD + (
        "services:\n"
        "  api: {cloud_run: {instances: 2}}\n"
        "  worker: {kind: worker}\n"
        "pubsub:\n"
        "  topics: {tasks: {}}\n"
        "  subscriptions:\n"
        "    sub-a: {topic: tasks, push: {service: worker}}\n"
        "    sub-b: {topic: tasks, pull: {service: api}}\n"
    )
    found = errors(text)
    assert any("services.api.cloud_run.instances: instances is for workers" in e for e in found)
    assert any(
        "pubsub.subscriptions.sub-a.push.service: 'worker' is a worker: it cannot receive pushes" in e for e in found
    )
    assert any("pubsub.subscriptions.sub-b.pull.service: 'api' is not a worker" in e for e in found)


def test_jobs_need_one_image_source_and_known_references(errors: Errors) -> None:
    text = HEAD + (
        "services:\n"
        "  api: {}\n"
        "jobs:\n"
        "  a: {command: [x]}\n"
        "  b: {service: apu, databases: [main], tasks: 2, parallelism: 3, time_zone: Europe/Paris}\n"
        "  c: {image: 'x/y:1', schedule: 'every day'}\n"
    )
    found = errors(text)
    assert any(e.startswith("shipit.yaml:8:") and "jobs.a: a job needs exactly one of service" in e for e in found)
    assert any("jobs.b.service: service 'apu' is not defined (did you mean 'api'?)" in e for e in found)
    assert any("jobs.b.databases[0]: database 'main' is not defined" in e for e in found)
    assert any("jobs.b.parallelism: parallelism (3) is more than tasks (2)" in e for e in found)
    assert any("jobs.b.time_zone: time_zone without a schedule" in e for e in found)
    assert any("jobs.c.schedule" in e for e in found)


def test_a_valid_worker_and_job_load(load: Load) -> None:
    text = HEAD + (
        "services:\n"
        "  api: {}\n"
        "  worker: {kind: worker, cloud_run: {instances: 0, vpc: {mode: direct}}}\n"
        "pubsub:\n"
        "  topics: {tasks: {}}\n"
        "  subscriptions: {sub1: {topic: tasks, pull: {service: worker}}}\n"
        "jobs:\n"
        "  nightly: {service: api, command: [sh, -c, 'echo hi'], schedule: '0 3 * * *', time_zone: Europe/Paris}\n"
    )
    config = load(text).base
    assert config.services["worker"].kind == "worker" and config.services["worker"].cloud_run.instances == 0
    assert config.jobs["nightly"].schedule == "0 3 * * *"


def test_a_worker_cannot_mount_secret_files(errors: Errors) -> None:
    # gcloud refuses it too: "Secrets volume mount is not supported for Worker Pools yet".
    text = HEAD + (
        "services:\n"
        "  worker:\n"
        "    kind: worker\n"
        "    secrets: [STRIPE_KEY]\n"
        "    secret_files: {/secrets/sa.json: SA_JSON}\n"
        "  api: {secret_files: {/secrets/sa.json: SA_JSON}}\n"
    )
    assert errors(text) == [
        "shipit.yaml:9:19: services.worker.secret_files: worker pools cannot mount secrets as files "
        "(list the key under secrets to read it from an environment variable)",
    ]
