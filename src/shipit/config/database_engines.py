"""The database engines shipit provisions on Cloud SQL, and what differs between them.

One table per engine so every consumer (config checks, Terraform render, local runtimes, init) reads the
same facts: the versions Cloud SQL offers for new instances, the default, the port and the URL scheme the
application's DATABASE_URL uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EngineName = Literal["postgres", "mysql"]


@dataclass(frozen=True)
class Engine:
    name: EngineName
    label: str  # for messages
    versions: tuple[str, ...]
    default_version: str
    port: int
    # DATABASE_URL on Cloud SQL. Postgres: libpq's own URI, which psycopg, asyncpg, SQLAlchemy
    # (postgresql://), Prisma and node-postgres accept. MySQL: the MySQL connection URI
    # (mysql://, ssl-mode=REQUIRED) of the MySQL clients, Shell and Connectors. Cloud SQL's server
    # certificate comes from a per-instance CA that clients don't have, so both ask for encryption
    # without certificate verification (sslmode=require / ssl-mode=REQUIRED); the instance refuses
    # unencrypted connections (ssl_mode ENCRYPTED_ONLY).
    scheme: str
    tls_query: str
    max_user_length: int
    jdbc: str  # the JDBC subprotocol (jdbc:postgresql://, jdbc:mysql://)

    def cloud_sql_version(self, version: str) -> str:
        """The Cloud SQL database_version: 16 -> POSTGRES_16, 8.4 -> MYSQL_8_4."""
        return f"{self.name.upper()}_{version.replace('.', '_')}"


POSTGRES = Engine(
    "postgres",
    "Postgres",
    ("13", "14", "15", "16", "17"),
    "16",
    5432,
    "postgresql",
    "sslmode=require",
    63,
    "postgresql",
)
# 5.7 is in extended support only; new instances get 8.0 or 8.4.
MYSQL = Engine("mysql", "MySQL", ("8.0", "8.4"), "8.4", 3306, "mysql", "ssl-mode=REQUIRED", 32, "mysql")

ENGINES: dict[str, Engine] = {e.name: e for e in (POSTGRES, MYSQL)}
ALL_VERSIONS = tuple(v for e in ENGINES.values() for v in e.versions)


def engine(name: str) -> Engine:
    return ENGINES[name]
