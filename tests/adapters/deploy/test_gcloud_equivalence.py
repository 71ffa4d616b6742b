"""One test per row of docs/gcloud-equivalence.md: the config key lands in the documented API field."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.deploy.conftest import PARENT, Project, image, svc_name

DOC = Path(__file__).resolve().parents[3] / "docs" / "gcloud-equivalence.md"
CONN = "acme-staging:us-central1:acme-main"
INFRA = {
    "service_accounts": {"api": "acme-api@acme-staging.iam.gserviceaccount.com"},
    "vpc_connector": f"{PARENT}/connectors/acme",
    "vpc_network": "projects/acme-staging/global/networks/acme",
    "vpc_subnetwork": "projects/acme-staging/regions/us-central1/subnetworks/acme",
    "database_connection_names": {"main": CONN},
    "database_url_secrets": {"main": "acme-staging-main-url"},
}
DB = "databases:\n  main: {}\n"
PUSH_MEMBER = "serviceAccount:acme-staging-push@acme-staging.iam.gserviceaccount.com"
Check = Callable[[Project], None]


def c(project: Project) -> dict[str, Any]:
    return project.container("api")


def t(project: Project) -> dict[str, Any]:
    return project.service("api")["template"]  # type: ignore[no-any-return]


def env(project: Project) -> dict[str, Any]:
    return {e["name"]: e for e in c(project).get("env", [])}


# flag (as in the doc's first column) -> (service yaml for `api`, extra top-level yaml, check)
ROWS: dict[str, tuple[str, str, Check]] = {
    "`SERVICE` (positional)": ("{}", "", lambda p: p.service("api")),
    "`--project`, `--region`": ("{}", "", lambda p: svc_name("api") in p.fake.run.services or pytest.fail()),
    "`--image`": ("{}", "", lambda p: c(p)["image"] == image("api") or pytest.fail()),
    "`--port`": ("{port: 3000}", "", lambda p: c(p)["ports"][0]["containerPort"] == 3000 or pytest.fail()),
    "`--[no-]use-http2`": (
        "{cloud_run: {http2: true}}",
        "",
        lambda p: c(p)["ports"][0] == {"name": "h2c", "containerPort": 8080} or pytest.fail(),
    ),
    "`--set-env-vars`": ("{env: {A: b}}", "", lambda p: env(p)["A"]["value"] == "b" or pytest.fail()),
    "`--set-secrets VAR=SECRET:VERSION`": (
        "{secrets: [K]}",
        "",
        lambda p: (
            env(p)["K"]["valueSource"]["secretKeyRef"] == {"secret": "acme-staging-K", "version": "7"} or pytest.fail()
        ),
    ),
    "`--set-secrets VAR=SECRET:VERSION` (database URL)": (
        "{databases: [main]}",
        DB,
        lambda p: (
            env(p)["DATABASE_URL"]["valueSource"]["secretKeyRef"]["secret"] == "acme-staging-main-url" or pytest.fail()
        ),
    ),
    "`--set-secrets /PATH=SECRET:VERSION`": (
        "{secret_files: {/secrets/sa.json: K}}",
        "",
        lambda p: (
            (
                t(p)["volumes"][0]["secret"]
                == {"secret": "acme-staging-K", "items": [{"path": "sa.json", "version": "7"}]}
                and c(p)["volumeMounts"][0]["mountPath"] == "/secrets"
            )
            or pytest.fail()
        ),
    ),
    "`--cpu`": (
        "{cloud_run: {cpu: 2, memory: 1Gi}}",
        "",
        lambda p: c(p)["resources"]["limits"]["cpu"] == "2" or pytest.fail(),
    ),
    "`--memory`": (
        "{cloud_run: {memory: 1Gi}}",
        "",
        lambda p: c(p)["resources"]["limits"]["memory"] == "1Gi" or pytest.fail(),
    ),
    "`--[no-]cpu-throttling`": (
        "{cloud_run: {cpu_idle: false}}",
        "",
        lambda p: not c(p)["resources"].get("cpuIdle") or pytest.fail(),
    ),
    "`--[no-]cpu-boost`": (
        "{cloud_run: {startup_cpu_boost: false}}",
        "",
        lambda p: not c(p)["resources"].get("startupCpuBoost") or pytest.fail(),
    ),
    "`--[no-]cpu-boost` (not given, new service)": (
        "{}",
        "",
        lambda p: c(p)["resources"]["startupCpuBoost"] is True or pytest.fail(),
    ),
    "`--min-instances`": (
        "{cloud_run: {min_instances: 2}}",
        "",
        lambda p: t(p)["scaling"]["minInstanceCount"] == 2 or pytest.fail(),
    ),
    "`--max-instances`": (
        "{cloud_run: {max_instances: 7}}",
        "",
        lambda p: t(p)["scaling"]["maxInstanceCount"] == 7 or pytest.fail(),
    ),
    "`--min`, `--max` (beta)": (
        "{cloud_run: {scaling: {min_instances: 1, max_instances: 5}}}",
        "",
        lambda p: p.service("api")["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 5} or pytest.fail(),
    ),
    "`--scaling` (beta)": (
        "{cloud_run: {scaling: {manual_instances: 3}}}",
        "",
        lambda p: p.service("api")["scaling"] == {"scalingMode": "MANUAL", "manualInstanceCount": 3} or pytest.fail(),
    ),
    "`--concurrency`": (
        "{cloud_run: {concurrency: 12}}",
        "",
        lambda p: t(p)["maxInstanceRequestConcurrency"] == 12 or pytest.fail(),
    ),
    "`--timeout`": ("{cloud_run: {timeout: 5m}}", "", lambda p: t(p)["timeout"] == "300s" or pytest.fail()),
    "`--execution-environment`": (
        "{cloud_run: {execution_environment: gen2}}",
        "",
        lambda p: t(p)["executionEnvironment"] == "EXECUTION_ENVIRONMENT_GEN2" or pytest.fail(),
    ),
    "`--service-account`": (
        "{}",
        "",
        lambda p: t(p)["serviceAccount"] == "acme-api@acme-staging.iam.gserviceaccount.com" or pytest.fail(),
    ),
    "`--vpc-connector`": (
        "{cloud_run: {vpc: {mode: connector}}}",
        "",
        lambda p: t(p)["vpcAccess"]["connector"] == INFRA["vpc_connector"] or pytest.fail(),
    ),
    "`--vpc-egress`": (
        "{cloud_run: {vpc: {egress: all-traffic}}}",
        "",
        lambda p: t(p)["vpcAccess"]["egress"] == "ALL_TRAFFIC" or pytest.fail(),
    ),
    "`--network`, `--subnet`": (
        "{cloud_run: {vpc: {mode: direct}}}",
        "",
        lambda p: (
            t(p)["vpcAccess"]["networkInterfaces"]
            == [{"network": INFRA["vpc_network"], "subnetwork": INFRA["vpc_subnetwork"]}]
            or pytest.fail()
        ),
    ),
    "`--add-cloudsql-instances`": (
        "{databases: [main]}",
        DB,
        lambda p: {"name": "cloudsql", "cloudSqlInstance": {"instances": [CONN]}} in t(p)["volumes"] or pytest.fail(),
    ),
    "`--ingress`": (
        "{cloud_run: {ingress: internal}}",
        "",
        lambda p: p.service("api")["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY" or pytest.fail(),
    ),
    "`--labels`": (
        "{cloud_run: {labels: {team: core}}}",
        "",
        lambda p: (
            (
                p.service("api")["labels"]["team"] == "core"
                and t(p)["labels"]["team"] == "core"
                and t(p)["labels"]["managed-by"] == "shipit"
                and t(p)["labels"]["shipit-release"] == "r1"
            )
            or pytest.fail()
        ),
    ),
    "`--[no-]session-affinity`": (
        "{cloud_run: {session_affinity: true}}",
        "",
        lambda p: t(p)["sessionAffinity"] is True or pytest.fail(),
    ),
    "`--startup-probe`": (
        "{cloud_run: {probes: {startup: {path: /ready, period: 5s}}}}",
        "",
        lambda p: (
            (
                c(p)["startupProbe"]["httpGet"] == {"path": "/ready", "port": 8080}
                and c(p)["startupProbe"]["periodSeconds"] == 5
            )
            or pytest.fail()
        ),
    ),
    "`--liveness-probe`": (
        "{cloud_run: {probes: {liveness: {type: tcp}}}}",
        "",
        lambda p: c(p)["livenessProbe"]["tcpSocket"] == {"port": 8080} or pytest.fail(),
    ),
    "`readinessProbe` (YAML, `gcloud run services replace`)": (
        "{cloud_run: {probes: {readiness: {path: /ready}}}}",
        "",
        lambda p: c(p)["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 8080} or pytest.fail(),
    ),
    "`--command`": (
        "{cloud_run: {command: gunicorn app}}",
        "",
        lambda p: c(p)["command"] == ["gunicorn", "app"] or pytest.fail(),
    ),
    "`--args`": (
        "{cloud_run: {args: [--workers, '2']}}",
        "",
        lambda p: c(p)["args"] == ["--workers", "2"] or pytest.fail(),
    ),
    "`--description`": (
        "{cloud_run: {description: The API}}",
        "",
        lambda p: p.service("api")["description"] == "The API" or pytest.fail(),
    ),
    "`--set-custom-audiences`": (
        "{cloud_run: {custom_audiences: [https://api.example.com]}}",
        "",
        lambda p: p.service("api")["customAudiences"] == ["https://api.example.com"] or pytest.fail(),
    ),
    "`--[no-]invoker-iam-check`": (
        "{cloud_run: {invoker_iam_disabled: true}}",
        "",
        lambda p: p.service("api")["invokerIamDisabled"] is True or pytest.fail(),
    ),
    "`--[no-]iap` (beta)": ("{cloud_run: {iap: true}}", "", lambda p: p.service("api")["iapEnabled"] or pytest.fail()),
    "`--[no-]default-url` (beta)": (
        "{cloud_run: {default_uri_disabled: true}}",
        "",
        lambda p: p.service("api")["defaultUriDisabled"] is True or pytest.fail(),
    ),
    "`--add-volume type=cloud-storage` (beta)": (
        "{volumes: {data: {gcs: {bucket: acme-data, mount_options: [implicit-dirs]}, mount: /data}}}",
        "",
        lambda p: (
            (
                {"name": "data", "gcs": {"bucket": "acme-data", "mountOptions": ["implicit-dirs"]}} in t(p)["volumes"]
                and {"name": "data", "mountPath": "/data"} in c(p)["volumeMounts"]
            )
            or pytest.fail()
        ),
    ),
    "`--add-volume type=nfs` (beta)": (
        "{volumes: {share: {nfs: {server: 10.0.0.2, path: /export, read_only: true}, mount: /share}},"
        " cloud_run: {vpc: {mode: direct}}}",
        "",
        lambda p: (
            {"name": "share", "nfs": {"server": "10.0.0.2", "path": "/export", "readOnly": True}} in t(p)["volumes"]
            or pytest.fail()
        ),
    ),
    "`--add-volume type=in-memory` (beta)": (
        "{volumes: {cache: {empty_dir: {size_limit: 256Mi}, mount: /cache}}}",
        "",
        lambda p: (
            {"name": "cache", "emptyDir": {"medium": "MEMORY", "sizeLimit": "256Mi"}} in t(p)["volumes"]
            or pytest.fail()
        ),
    ),
    "`--container` (sidecars)": (
        "{sidecars: {proxy: {image: 'nginx:1.27', env: {A: b}, secrets: [K]}}}",
        "",
        lambda p: (
            (
                t(p)["containers"][1]["name"] == "proxy"
                and t(p)["containers"][1]["image"] == "nginx:1.27"
                and t(p)["containers"][1]["env"][1]["valueSource"]["secretKeyRef"]["version"] == "7"
                and c(p)["name"] == "api"
            )
            or pytest.fail()
        ),
    ),
    "`--depends-on`": (
        "{cloud_run: {depends_on: [proxy]}, sidecars: {proxy: {image: 'nginx:1.27', "
        "startup_probe: {type: tcp, port: 9000}}}}",
        "",
        lambda p: c(p)["dependsOn"] == ["proxy"] or pytest.fail(),
    ),
    "`--[no-]allow-unauthenticated`": (
        "{cloud_run: {allow_unauthenticated: true}}",
        "",
        lambda p: (
            {"role": "roles/run.invoker", "members": ["allUsers"]} in p.fake.run.iam.get(svc_name("api"))["bindings"]
            or pytest.fail()
        ),
    ),
    "`gcloud run services add-iam-policy-binding --member=serviceAccount:PUSH --role=roles/run.invoker`": (
        "{}",
        "pubsub:\n  topics: {jobs: {}}\n  subscriptions:\n    jobs-api: {topic: jobs, push: {service: api}}\n",
        lambda p: (
            {"role": "roles/run.invoker", "members": [PUSH_MEMBER]} in p.fake.run.iam.get(svc_name("api"))["bindings"]
            or pytest.fail()
        ),
    ),
    "`--no-traffic --tag TAG`": ("{}", "", lambda p: None),  # checked by test_staged_row below
    "`gcloud run services update-traffic --to-revisions`": ("{}", "", lambda p: None),  # canary/rollback tests
}


def doc_rows() -> list[str]:
    rows = []
    section = DOC.read_text().split("## gcloud run deploy", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        if line.startswith("| `"):
            rows.append(line.split(" | ")[0].removeprefix("| ").strip())
    return rows


def test_every_doc_row_has_a_test() -> None:
    assert doc_rows() == list(ROWS)


@pytest.mark.parametrize("flag", list(ROWS))
def test_row(project: Project, flag: str) -> None:
    service_yaml, extra, check = ROWS[flag]
    project.write("api: " + service_yaml + "\n", extra)
    _, out = project.deploy(
        {"api": image("api")},
        {"infra": INFRA, "secrets": {"K": "projects/x/secrets/acme-staging-K/versions/7"}},
        release_id="r1",
    )
    assert out["api"]["ok"]
    check(project)
    # Every row is also declarative: re-deploying the same config writes nothing.
    project.fake.reset_calls()
    plan, _ = project.deploy(results={"infra": INFRA, "secrets": {"K": "projects/x/secrets/acme-staging-K/versions/7"}})
    assert not plan.has_changes, plan.render_lines()


def test_staged_row(project: Project) -> None:
    project.write("api: {}\n")
    project.deploy({"api": image("api")})
    old = project.revisions("api")[-1]
    project.deploy(
        {"api": image("api", "sha256:" + "c" * 64)},
        staged=True,
        tag="next",
        health_checker=lambda url, path, timeout: _seen(url),
    )
    assert SEEN and re.match(r"https://next---api-", SEEN[0])
    new = project.revisions("api")[-1]
    assert old != new
    # The tagged revision keeps its tag at 0% after the rollout, as `gcloud run deploy --no-traffic --tag` does.
    assert project.service("api")["traffic"] == [
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100},
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": new, "tag": "next"},
    ]
    assert any(s.get("tag") == "next" and s.get("uri") for s in project.service("api")["trafficStatuses"])
    # Re-deploying the same config is a no-op: the kept tag is not a reason to rewrite traffic.
    plan, _ = project.deploy()
    assert not plan.has_changes, plan.render_lines()


SEEN: list[str] = []


def _seen(url: str) -> Any:
    from shipit.steps.services.api import HealthResult

    SEEN.append(url)
    return HealthResult(True, "HTTP 200")
