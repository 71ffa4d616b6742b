"""Multi-region environments in shipit.yaml: regions, domain, routes, armor, and the rules between them."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipit.config import load_config, resolve_target
from shipit.config.target import Target
from shipit.errors import ConfigError

BASE = """\
version: 1
app: shop
environments:
  prod:
    project: shop-prod-123
    ENV
services:
  api: {build: {context: .}, databases: [main], cloud_run: {allow_unauthenticated: true}}
  web: {build: {context: .}, env: {API_URL: "${services.api.url}"}, cloud_run: {allow_unauthenticated: true}}
  worker: {kind: worker, build: {context: .}}
databases:
  main: {}
"""
GOOD = """regions: [europe-west1, us-central1]
    domain: shop.example.com
    routes: {"/*": web}
    cloud_armor: true
    services:
      api: {regions: [europe-west1]}"""


def _write(tmp_path: Path, env: str, extra: str = "") -> Path:
    path = tmp_path / "shipit.yaml"
    path.write_text(BASE.replace("ENV", env) + extra)
    return path


def target(tmp_path: Path, env: str = GOOD, extra: str = "") -> Target:
    return resolve_target(load_config(_write(tmp_path, env, extra), "shipit.yaml"), "prod")


def problems(tmp_path: Path, env: str, extra: str = "") -> str:
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, env, extra), "shipit.yaml")
    return str(err.value)


def test_regions_default_the_region_and_each_service_runs_where_it_says(tmp_path: Path) -> None:
    t = target(tmp_path)
    assert t.region == "europe-west1"  # the primary: the first of regions
    assert t.regions == ("europe-west1", "us-central1")
    assert t.service_regions("web") == ("europe-west1", "us-central1")
    assert t.service_regions("api") == ("europe-west1",)
    assert t.service_regions("worker") == ("europe-west1",)  # workers stay in the primary region


def test_a_single_region_environment_is_unchanged(tmp_path: Path) -> None:
    t = target(tmp_path, "region: us-east1")
    assert (t.region, t.regions, t.service_regions("web")) == ("us-east1", ("us-east1",), ("us-east1",))


def test_region_and_regions_must_agree(tmp_path: Path) -> None:
    text = problems(tmp_path, "region: us-east1\n    regions: [europe-west1, us-central1]")
    assert "set either region or regions" in text
    both = "region: europe-west1\n    " + GOOD
    assert target(tmp_path, both).regions == ("europe-west1", "us-central1")


def test_neither_region_nor_regions_is_refused(tmp_path: Path) -> None:
    assert "needs region (or regions)" in problems(tmp_path, "production: true")


def test_unknown_and_repeated_regions_are_refused_with_a_hint(tmp_path: Path) -> None:
    text = problems(tmp_path, "regions: [europe-west1, us-centrall1, europe-west1]")
    assert "'us-centrall1' is not a Cloud Run region" in text
    assert "did you mean 'us-central1'?" in text
    assert "region europe-west1 is listed twice" in text
    assert "shipit.yaml:6:" in text  # the regions line


def test_a_multi_region_service_may_reach_the_database_from_every_region(tmp_path: Path) -> None:
    t = target(tmp_path, "regions: [europe-west1, us-central1]")
    assert t.service_regions("api") == ("europe-west1", "us-central1")


def test_the_ranges_repeated_per_region_must_not_overlap(tmp_path: Path) -> None:
    # Region 2's subnet (the block after 10.8.0.0/24) would cover the primary's connector.
    infra = "infra: {subnet_cidr: 10.8.0.0/24, connector_cidr: 10.8.1.16/28}\n"
    text = problems(tmp_path, "regions: [europe-west1, us-central1]", infra)
    assert "the connector range of region 1 (10.8.1.16/28) overlaps the subnet of region 2 (10.8.1.0/24)" in text
    assert "shipit.yaml:" in text
    # One region: the ranges are the configured ones, which do not overlap.
    target(tmp_path, "region: europe-west1", infra)
    edge = "infra: {subnet_cidr: 10.255.255.0/24}\n"
    assert "leaves the private ranges when repeated for 2 regions" in problems(tmp_path, GOOD, edge)


def test_routes_must_name_http_services_and_have_a_default(tmp_path: Path) -> None:
    env = GOOD.replace('routes: {"/*": web}', 'routes: {"/api/*": ap, "/x": worker}')
    text = problems(tmp_path, env)
    assert "service 'ap' is not defined" in text and "did you mean 'api'?" in text
    assert "service 'worker' is not defined" in text  # a worker serves no requests
    assert "routes need a default '/*' service" in text
    bad = problems(tmp_path, GOOD.replace('routes: {"/*": web}', 'routes: {"/*": web, "api/*": api}'))
    assert "'api/*' is not a path pattern" in bad


def test_a_domain_with_several_services_needs_routes(tmp_path: Path) -> None:
    text = problems(tmp_path, GOOD.replace('    routes: {"/*": web}\n', ""))
    assert "the load balancer needs to know which service answers which path" in text


def test_routes_and_armor_need_a_domain(tmp_path: Path) -> None:
    text = problems(tmp_path, GOOD.replace("    domain: shop.example.com\n", ""))
    assert "routes need a domain for the load balancer" in text
    assert "Cloud Armor needs the load balancer" in text


def test_armor_and_cloud_armor_exclude_each_other(tmp_path: Path) -> None:
    text = problems(tmp_path, GOOD + "\n    armor: {policy: corp-waf}")
    assert "set either armor or cloud_armor" in text
    t = target(tmp_path, GOOD.replace("cloud_armor: true", "armor: {policy: corp-waf, rate_limit: 100}"))
    assert t.environment.armor is not None and t.environment.armor.policy == "corp-waf"


def test_a_routed_service_must_accept_the_load_balancers_anonymous_requests(tmp_path: Path) -> None:
    private = BASE.replace(
        'env: {API_URL: "${services.api.url}"}, cloud_run: {allow_unauthenticated: true}',
        'env: {API_URL: "${services.api.url}"}',
    )
    path = tmp_path / "shipit.yaml"
    path.write_text(private.replace("ENV", GOOD))
    with pytest.raises(ConfigError) as err:
        load_config(path, "shipit.yaml")
    assert "service web is behind the load balancer, whose requests carry no identity" in str(err.value)


def test_secrets_replicated_by_hand_must_reach_every_region(tmp_path: Path) -> None:
    extra = "secrets: {replication: {automatic: false, locations: [europe-west1]}}\n"
    assert "secrets are not replicated to us-central1" in problems(tmp_path, GOOD, extra)
    extra = "secrets: {replication: {automatic: false, locations: [europe-west1, us-central1]}}\n"
    assert target(tmp_path, GOOD, extra).regions == ("europe-west1", "us-central1")
    # A service's own regions count too: it reads DATABASE_URL in each of them.
    extra = "secrets: {replication: {automatic: false, locations: [europe-west1]}}\n"
    env = "region: europe-west1\n    services:\n      api: {regions: [europe-west1, us-east1]}"
    assert "secrets are not replicated to us-east1" in problems(tmp_path, env, extra)


def test_a_worker_cannot_be_multi_region(tmp_path: Path) -> None:
    env = GOOD + "\n      worker: {regions: [europe-west1, us-central1]}"
    assert "a worker runs in the primary region only" in problems(tmp_path, env)


def test_bad_domain_is_refused(tmp_path: Path) -> None:
    assert "domain" in problems(tmp_path, GOOD.replace("shop.example.com", "https://shop.example.com/"))


def test_environments_sharing_a_project_must_not_share_a_region(tmp_path: Path) -> None:
    other = "\n  staging:\n    project: shop-prod-123\n    region: us-central1\n"
    text = BASE.replace("ENV", GOOD).replace("\nservices:", other + "services:", 1)
    path = tmp_path / "shipit.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path, "shipit.yaml")
    assert "share project shop-prod-123 and region us-central1" in str(err.value)
