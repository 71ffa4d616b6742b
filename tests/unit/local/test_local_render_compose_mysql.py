"""The compose file of an `engine: mysql` database: the official MySQL image, a TCP healthcheck, mysql:// URLs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from shipit.config import Target
from shipit.local.compose import prepare

MIXED = """
version: 1
app: shop
environments: {dev: {project: shop-dev-1, region: us-central1}}
databases:
  shop: {engine: mysql, user: shopper}
  legacy: {engine: mysql, version: "8.0", name: old_shop, env_var: LEGACY_URL}
  main: {env_var: PG_URL}
services:
  api:
    image: busybox
    databases: [shop, legacy, main]
    env: {SHOP_HOST: "${databases.shop.host}"}
"""


def _services(target: Target) -> dict[str, Any]:
    doc = yaml.safe_load(prepare(target).text)
    assert isinstance(doc, dict)
    services: dict[str, Any] = doc["services"]
    return services


def test_mysql_database_is_the_mysql_image_at_its_version(make_target: Callable[..., Target]) -> None:
    services = _services(make_target(MIXED))
    shop, legacy = services["db-shop"], services["db-legacy"]
    assert (shop["image"], legacy["image"]) == ("mysql:8.4", "mysql:8.0")
    assert shop["environment"] == {
        "MYSQL_DATABASE": "shop",
        "MYSQL_USER": "shopper",
        "MYSQL_PASSWORD": "shipit",
        "MYSQL_RANDOM_ROOT_PASSWORD": "yes",
    }
    assert legacy["environment"]["MYSQL_DATABASE"] == "old_shop"
    assert shop["volumes"] == ["db-shop-data:/var/lib/mysql"]
    assert shop["ports"] == ["127.0.0.1::3306"]
    test = shop["healthcheck"]["test"]
    assert test[:3] == ["CMD", "mysqladmin", "ping"] and "127.0.0.1" in test
    # Nothing of the Postgres container leaks into the MySQL one.
    assert not [s for s in ("pg_isready", "psql", "POSTGRES", "sslmode", "postgresql") if s in str(shop)]
    assert services["db-main"]["image"] == "postgres:16-alpine"


def test_services_get_mysql_urls_and_wait_for_the_healthy_database(make_target: Callable[..., Target]) -> None:
    api = _services(make_target(MIXED))["api"]
    env = api["environment"]
    assert env["DATABASE_URL"] == "mysql://shopper:shipit@db-shop:3306/shop"
    assert env["LEGACY_URL"] == "mysql://app:shipit@db-legacy:3306/old_shop"
    assert env["PG_URL"] == "postgresql://app:shipit@db-main:5432/main"
    assert env["SHOP_HOST"] == "db-shop"
    assert api["depends_on"] == {
        "db-shop": {"condition": "service_healthy"},
        "db-legacy": {"condition": "service_healthy"},
        "db-main": {"condition": "service_healthy"},
    }


def test_the_mysql_image_can_be_overridden(make_target: Callable[..., Target], monkeypatch: Any) -> None:
    monkeypatch.setenv("SHIPIT_MYSQL_IMAGE", "mirror.example/mysql:{version}-oracle")
    services = _services(make_target(MIXED))
    assert services["db-legacy"]["image"] == "mirror.example/mysql:8.0-oracle"
