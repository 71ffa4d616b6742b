"""Cloud Run rules for probes, sidecars, volumes and service-level scaling (config/cloudrun_checks.py)."""

from __future__ import annotations

import pytest
from config_support import HEAD, Errors, Load

from shipit.config.cloudrun_checks import reserved_path

API = HEAD + "services:\n  api:\n"


@pytest.mark.parametrize(
    ("path", "reserved"),
    [("/healthz", True), ("/readyz/", True), ("/_ah/health", True), ("/eventlog", True), ("/health", False)],
)
def test_reserved_paths(path: str, reserved: bool) -> None:
    assert (reserved_path(path) is not None) is reserved


def test_health_path_ending_in_z_is_rejected(errors: Errors) -> None:
    assert errors(API + "    health: {path: /healthz}\n") == [
        "shipit.yaml:7:20: services.api.health.path: /healthz: Cloud Run reserves paths ending in z (such as "
        "/healthz) (use another path, e.g. /health)"
    ]


def test_probe_on_a_reserved_path_is_rejected(errors: Errors) -> None:
    text = API + "    cloud_run:\n      probes:\n        readiness: {path: /_ah/ready}\n"
    assert errors(text) == [
        "shipit.yaml:9:27: services.api.cloud_run.probes.readiness.path: /_ah/ready: paths under /_ah/ are "
        "reserved by Cloud Run (use another path, e.g. /health)"
    ]


def test_startup_probe_window_beyond_cloud_run_limits(errors: Errors) -> None:
    text = API + "    cloud_run:\n      probes:\n        startup: {initial_delay: 300s, period: 5m, timeout: 10s}\n"
    assert errors(text) == [
        "shipit.yaml:9:34: services.api.cloud_run.probes.startup.initial_delay: a startup probe's initial_delay "
        "is at most 240s on Cloud Run (got 300s)",
        "shipit.yaml:9:48: services.api.cloud_run.probes.startup.period: a startup probe's period is at most "
        "240s on Cloud Run (got 300s)",
    ]


def test_liveness_probe_allows_longer_windows(load: Load) -> None:
    text = API + "    cloud_run:\n      probes:\n        liveness: {initial_delay: 600s, period: 20m, timeout: 30s}\n"
    probe = load(text).base.services["api"].cloud_run.probes.liveness
    assert probe is not None and probe.period == 1200


def test_timeout_longer_than_period(errors: Errors) -> None:
    text = API + "    cloud_run:\n      probes:\n        liveness: {period: 5s, timeout: 10s}\n"
    assert errors(text) == [
        "shipit.yaml:9:41: services.api.cloud_run.probes.liveness.timeout: timeout (10s) is longer than period "
        "(5s); Cloud Run rejects it (make timeout at most period)"
    ]


def test_http_probe_on_a_worker(errors: Errors) -> None:
    text = API + "    kind: worker\n    health: {path: null}\n    cloud_run:\n      probes:\n        liveness: {}\n"
    assert errors(text) == [
        "shipit.yaml:11:19: services.api.cloud_run.probes.liveness.type: a worker has no HTTP port, so an http probe "
        "can never pass (use type: tcp or grpc)"
    ]


def test_http_probe_on_an_http2_container(errors: Errors) -> None:
    text = API + "    cloud_run:\n      http2: true\n      probes:\n        startup: {path: /ready}\n"
    assert errors(text) == [
        "shipit.yaml:10:18: services.api.cloud_run.probes.startup.type: Cloud Run's HTTP probes use HTTP/1, which an "
        "http2 (h2c) container does not answer (use type: tcp or grpc, or http2: false)"
    ]


def test_sidecars_and_volumes_are_checked(errors: Errors) -> None:
    text = API + (
        "    cloud_run: {depends_on: [proxi, proxy]}\n"
        "    volumes: {cache: {empty_dir: {}}}\n"
        "    sidecars:\n"
        "      proxy: {image: nginx, depends_on: [ap], mounts: {cahce: /cache}}\n"
    )
    assert errors(text) == [
        "shipit.yaml:7:30: services.api.cloud_run.depends_on[0]: 'proxi' is not a sidecar of this service "
        "(did you mean 'proxy'?)",
        "shipit.yaml:7:37: services.api.cloud_run.depends_on[1]: sidecar 'proxy' has no startup_probe, so waiting "
        "for it does not wait for it to be ready (add sidecars.proxy.startup_probe)",
        "shipit.yaml:10:42: services.api.sidecars.proxy.depends_on[0]: 'ap' is not another container of this "
        "service (did you mean 'api'?)",
        "shipit.yaml:10:56: services.api.sidecars.proxy.mounts.cahce: volume 'cahce' is not defined "
        "(did you mean 'cache'?)",
    ]


def test_volume_needs_exactly_one_source(errors: Errors) -> None:
    assert errors(API + "    volumes: {cache: {mount: /cache}}\n") == [
        "shipit.yaml:7:22: services.api.volumes.cache: give exactly one of gcs, nfs, empty_dir"
    ]


def test_an_nfs_volume_needs_vpc_access(errors: Errors, load: Load) -> None:
    nfs = "    volumes: {share: {nfs: {server: 10.0.0.2}, mount: /share}}\n"
    assert errors(API + nfs) == [
        "shipit.yaml:7:28: services.api.volumes.share.nfs: an NFS volume needs VPC access, and this service has "
        "none (set cloud_run.vpc: {mode: direct} (Direct VPC egress) or {mode: connector})"
    ]
    load(API + nfs + "    cloud_run: {vpc: {mode: direct}}\n")
    load(HEAD + "databases: {main: {}}\nservices:\n  api:\n    databases: [main]\n" + nfs)


def test_manual_scaling_takes_no_bounds(errors: Errors) -> None:
    text = API + "    cloud_run: {scaling: {manual_instances: 2, max_instances: 4}}\n"
    assert errors(text) == [
        "shipit.yaml:7:45: services.api.cloud_run.scaling.manual_instances: manual scaling takes no "
        "min_instances/max_instances (remove min_instances and max_instances)"
    ]


def test_a_sidecar_has_an_image_or_a_build(errors: Errors, load: Load) -> None:
    both = API + "    sidecars:\n      proxy: {image: nginx, build: {context: ./proxy}}\n"
    assert errors(both) == ["shipit.yaml:8:14: services.api.sidecars.proxy: give exactly one of image, build"]
    neither = API + "    sidecars:\n      proxy: {env: {A: b}}\n"
    assert errors(neither) == ["shipit.yaml:8:14: services.api.sidecars.proxy: give exactly one of image, build"]
    outside = API + "    sidecars:\n      proxy: {build: {context: ../elsewhere}}\n"
    assert "outside the project" in errors(outside)[0]
    loaded = load(API + "    sidecars:\n      proxy: {build: {context: ./proxy}}\n")
    assert loaded.base.services["api"].sidecars["proxy"].build is not None
