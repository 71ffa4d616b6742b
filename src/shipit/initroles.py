"""What each compose service is to shipit, from its image and command: an app to deploy, Postgres or
MySQL/MariaDB (a Cloud SQL database), the Pub/Sub emulator, another engine shipit does not run, a local tool or a
local reverse proxy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shipit.config.database_engines import MYSQL
from shipit.initcaches import REDIS_IMAGES
from shipit.initcompose import command_text

SUPPORTED_POSTGRES = (13, 14, 15, 16, 17)
DEFAULT_POSTGRES = "16"
_POSTGRES_IMAGES = re.compile(r"(^|/)(postgres|postgresql|postgis|timescaledb[\w-]*|pgvector)(:|$)")
_MYSQL_IMAGES = re.compile(r"(^|/)(mysql|mysql-server|mariadb|percona|percona-server)(:|$)")
_PUBSUB_IMAGES = re.compile(r"pubsub-emulator|pubsub_emulator|gcloud-pubsub")
_GCLOUD_IMAGES = re.compile(r"google-cloud-cli|cloud-sdk|cloudsdktool")
# Engines shipit does not run (yet): image name pattern -> what it is.
ENGINES = {
    "redis": "Redis",
    "valkey": "Valkey",
    "memcached": "Memcached",
    "mongo": "MongoDB",
    "rabbitmq": "RabbitMQ",
    "elasticsearch": "Elasticsearch",
    "opensearch": "OpenSearch",
    "kafka": "Kafka",
    "zookeeper": "ZooKeeper",
    "nats": "NATS",
    "minio": "MinIO",
    "localstack": "LocalStack",
    "clickhouse": "ClickHouse",
    "cassandra": "Cassandra",
    "neo4j": "Neo4j",
    "firestore": "the Firestore emulator",
    "datastore": "the Datastore emulator",
}
ENGINE_HINTS = {
    "Redis": "use Memorystore (created by hand) and declare its URL as a secret",
    "Valkey": "use Memorystore for Valkey (created by hand) and declare its URL as a secret",
}
# Local conveniences: they have no job in the cloud.
_DEV_TOOLS = re.compile(
    r"(^|/)(adminer|pgadmin4?|dpage/pgadmin4|mailhog|mailpit|mailcatcher|redis-commander|mongo-express|phpmyadmin|portainer|jaeger|otel|grafana|prometheus|smtp4dev)"
)
_PROXIES = re.compile(r"(^|/)(nginx|traefik|caddy|haproxy|envoy)(:|$)")


@dataclass
class Role:
    what: str  # app | postgres | mysql | redis | pubsub | engine | tool | proxy
    label: str = ""


def image_name(svc: dict[str, Any]) -> str:
    return str(svc.get("image") or "").lower()


def service_role(name: str, svc: dict[str, Any], emulator_hosts: set[str]) -> Role:
    image = image_name(svc)
    if "build" in svc:
        return Role("app")
    if _POSTGRES_IMAGES.search(image):
        return Role("postgres")
    if REDIS_IMAGES.search(image):
        return Role("redis")
    if _MYSQL_IMAGES.search(image):
        return Role("mysql")
    command = command_text(svc.get("command")) + " " + command_text(svc.get("entrypoint"))
    if _PUBSUB_IMAGES.search(image) or (_GCLOUD_IMAGES.search(image) and "pubsub" in command) or name in emulator_hosts:
        return Role("pubsub")
    base = image.rsplit("/", 1)[-1].split(":")[0]
    for word, label in ENGINES.items():
        if word in base:
            return Role("engine", label)
    if _DEV_TOOLS.search(image):
        return Role("tool", base)
    if _PROXIES.search(image):
        return Role("proxy", base)
    return Role("app")


def postgres_version(image: str) -> tuple[str, str | None]:
    """(Cloud SQL version, note) for a compose Postgres image like postgres:12, postgis/postgis:15-3.4."""
    tag = image.partition(":")[2]
    match = re.match(r"(?:pg)?(\d+)", tag) or re.search(r"pg(\d+)", tag)
    if not match:
        return DEFAULT_POSTGRES, f"image {image or 'postgres'} names no version: Postgres {DEFAULT_POSTGRES} (guessed)"
    major = int(match.group(1))
    if major in SUPPORTED_POSTGRES:
        return str(major), None
    nearest = min(SUPPORTED_POSTGRES, key=lambda v: abs(v - major))
    return str(nearest), (
        f"Postgres {major} is not offered by Cloud SQL for new instances: Postgres {nearest}, the nearest "
        "(test your app and dump/restore against it)"
    )


def mysql_version(image: str) -> tuple[str, str | None]:
    """(Cloud SQL for MySQL version, note) for a compose image like mysql:8.0, mysql:5.7, mariadb:11."""
    name, _, tag = image.partition(":")
    default = MYSQL.default_version
    if "mariadb" in name:
        return default, (
            f"{image}: Cloud SQL has no MariaDB; MySQL {default} speaks the same protocol and SQL for most "
            "applications (test yours against it; shipit local --runtime native runs MariaDB)"
        )
    match = re.match(r"(\d+)(?:\.(\d+))?", tag)
    if not match:
        return default, f"image {image or 'mysql'} names no version: MySQL {default} (guessed)"
    major, minor = int(match.group(1)), match.group(2)
    exact = f"{major}.{minor}" if minor is not None else None
    if exact in MYSQL.versions:
        return exact, None
    if major == 8 and minor is None:
        return default, None  # the mysql:8 tag follows the 8.4 long-term release
    nearest = "8.0" if major < 8 else default
    return nearest, (
        f"MySQL {tag} is not offered by Cloud SQL for new instances: MySQL {nearest}, the nearest "
        "(test your app and dump/restore against it)"
    )
