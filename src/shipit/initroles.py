"""What each compose service is to shipit, from its image and command: an app to deploy, Postgres (a Cloud SQL
database), the Pub/Sub emulator, another engine shipit does not run, a local tool or a local reverse proxy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shipit.initcaches import REDIS_IMAGES
from shipit.initcompose import command_text

SUPPORTED_POSTGRES = (13, 14, 15, 16, 17)
DEFAULT_POSTGRES = "16"
_POSTGRES_IMAGES = re.compile(r"(^|/)(postgres|postgresql|postgis|timescaledb[\w-]*|pgvector)(:|$)")
_PUBSUB_IMAGES = re.compile(r"pubsub-emulator|pubsub_emulator|gcloud-pubsub")
_GCLOUD_IMAGES = re.compile(r"google-cloud-cli|cloud-sdk|cloudsdktool")
# Engines shipit does not run (yet): image name pattern -> what it is.
ENGINES = {
    "mysql": "MySQL",
    "mariadb": "MariaDB",
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
    "MySQL": "Cloud SQL for MySQL is not mapped by shipit yet: create it yourself and declare its URL as a secret",
    "MariaDB": "use Cloud SQL for MySQL (created by hand) and declare its URL as a secret",
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
    what: str  # app | postgres | redis | pubsub | engine | tool | proxy
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
