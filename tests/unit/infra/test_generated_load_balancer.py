"""The global load balancer that `shipit infra generate` writes for an environment with `domain:`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from infra_support import REPO, Generated, generate, targets_of

from shipit.config.multiregion import DEFAULT_WAF_RULES
from shipit.render.terraform import Features

FULLSTACK = REPO / "examples" / "fullstack" / "shipit.yaml"


def _fullstack(tmp_path: Path, *edits: tuple[str, str]) -> Generated:
    text = FULLSTACK.read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "shipit.yaml").write_text(text)
    return generate(targets_of(tmp_path / "shipit.yaml"))


@pytest.fixture(scope="module")
def fullstack(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    directory = tmp_path_factory.mktemp("fullstack")
    shutil.copy(FULLSTACK, directory / "shipit.yaml")
    return generate(targets_of(directory / "shipit.yaml"))


def test_only_the_environment_with_a_domain_gets_a_load_balancer(fullstack: Generated) -> None:
    assert Features.of(fullstack.targets).load_balancer
    assert "load_balancer.tf" in fullstack.files
    assert fullstack.inputs("staging")["load_balancer"] is None
    assert fullstack.inputs("prod")["load_balancer"] is None
    lb = fullstack.inputs("global")["load_balancer"]
    assert lb["domain"] == "shop.example.com"
    assert lb["routes"] == {"/*": "web"}
    # One serverless NEG per region the routed service runs in; api (primary region only) is not routed.
    assert lb["backends"] == {
        "web": {
            "name": "shop-global-web",
            "negs": {"europe-west1": "shop-global-web-europe-west1", "us-central1": "shop-global-web-us-central1"},
        }
    }
    assert lb["armor"] == {"rate_limit": 600, "waf_rules": list(DEFAULT_WAF_RULES)}
    outputs = fullstack.files["environments/global/outputs.tf"]
    assert "module.app.load_balancer" in outputs


def _by_type(generated: Generated) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for rtype, _, body in generated.resources():
        out.setdefault(rtype, []).append(body)
    return out


def test_every_load_balancer_resource_is_generated(fullstack: Generated) -> None:
    types = _by_type(fullstack)
    for rtype in (
        "google_compute_region_network_endpoint_group",
        "google_compute_backend_service",
        "google_compute_url_map",
        "google_compute_managed_ssl_certificate",
        "google_compute_target_https_proxy",
        "google_compute_target_http_proxy",
        "google_compute_global_address",
        "google_compute_global_forwarding_rule",
        "google_compute_security_policy",
    ):
        assert rtype in types, rtype
    neg = fullstack.resource("google_compute_region_network_endpoint_group", "lb")
    assert neg["network_endpoint_type"] == "SERVERLESS"
    assert neg["cloud_run"] == [{"service": "${each.value.service}"}]


def test_backend_services_fail_over_by_outlier_detection_not_health_checks(fullstack: Generated) -> None:
    backend = fullstack.resource("google_compute_backend_service", "lb")
    assert backend["load_balancing_scheme"] == "EXTERNAL_MANAGED"
    # Serverless NEGs take no health check; outlier detection is what ejects a failing region.
    assert "health_checks" not in backend
    assert "outlier_detection" in backend
    assert "timeout_sec" not in backend and "port_name" not in backend


def test_https_serves_and_http_only_redirects(fullstack: Generated) -> None:
    https = fullstack.resource("google_compute_global_forwarding_rule", "https")
    http = fullstack.resource("google_compute_global_forwarding_rule", "http")
    assert https["port_range"] == "443" and "target_https_proxy" in https["target"]
    assert http["port_range"] == "80" and "target_http_proxy.redirect" in http["target"]
    assert https["load_balancing_scheme"] == http["load_balancing_scheme"] == "EXTERNAL_MANAGED"
    redirect = fullstack.resource("google_compute_url_map", "redirect")
    assert redirect["default_url_redirect"] == [
        {"https_redirect": True, "redirect_response_code": "MOVED_PERMANENTLY_DEFAULT", "strip_query": False}
    ]
    proxy = fullstack.resource("google_compute_target_https_proxy", "lb")
    assert proxy["ssl_certificates"] == ["${google_compute_managed_ssl_certificate.lb[0].id}"]


def test_an_existing_armor_policy_is_referenced_not_generated(tmp_path: Path) -> None:
    generated = _fullstack(tmp_path, ("cloud_armor: true", "armor: {policy: corp-waf}"))
    assert generated.inputs("global")["load_balancer"]["armor"] == {"policy": "corp-waf"}


def test_routes_give_each_service_its_backend(tmp_path: Path) -> None:
    route = ('routes: {"/*": web}', 'routes: {"/*": web, "/api/*": api}')
    # A routed service takes the load balancer's anonymous requests (its ingress admits only the balancer).
    public = (
        "cloud_run: {memory: 512Mi, max_instances: 10, session_affinity: true}",
        "cloud_run: {memory: 512Mi, allow_unauthenticated: true, session_affinity: true}",
    )
    generated = _fullstack(tmp_path, route, public)
    lb = generated.inputs("global")["load_balancer"]
    assert set(lb["backends"]) == {"api", "web"}
    assert lb["backends"]["api"]["negs"] == {
        "europe-west1": "shop-global-api-europe-west1",
        "us-central1": "shop-global-api-us-central1",
    }
    assert lb["routes"] == {"/*": "web", "/api/*": "api"}


def test_without_armor_no_policy_is_passed(tmp_path: Path) -> None:
    generated = _fullstack(tmp_path, ("    cloud_armor: true\n", ""))
    assert "armor" not in generated.inputs("global")["load_balancer"]
