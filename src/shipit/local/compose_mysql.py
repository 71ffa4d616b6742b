"""The compose service of an `engine: mysql` database: the official MySQL image at the Cloud SQL version.

Kept apart from compose_file.py (which dispatches on the engine) so each engine's container stays readable.
"""

from __future__ import annotations

from typing import Any

from shipit.local.env import DatabaseEndpoint


def mysql_service(service: str, endpoint: DatabaseEndpoint, image: str) -> dict[str, Any]:
    return {
        "image": image,
        "environment": {
            "MYSQL_DATABASE": endpoint.name,
            "MYSQL_USER": endpoint.user,
            "MYSQL_PASSWORD": endpoint.password,
            # No known root password: the app user owns its database, as on Cloud SQL.
            "MYSQL_RANDOM_ROOT_PASSWORD": "yes",
        },
        "volumes": [f"{service}-data:/var/lib/mysql"],
        # An ephemeral host port: reachable with a mysql client from the laptop, never clashing with a local 3306.
        "ports": [f"127.0.0.1::{endpoint.port}"],
        "healthcheck": {
            # Over TCP: while the image initialises, its temporary server listens on the socket only, so
            # the check passes once the real server (with the database and user) is up. `ping` needs no
            # password: an access-denied answer still proves the server is up.
            "test": ["CMD", "mysqladmin", "ping", "-h", "127.0.0.1", f"-P{endpoint.port}", "--silent"],
            "interval": "2s",
            "timeout": "5s",
            "retries": 60,
        },
    }
