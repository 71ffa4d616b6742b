"""The same code locally and on Cloud Run: the connection comes from DATABASE_URL."""

from __future__ import annotations

import os

import psycopg


def connect() -> psycopg.Connection:
    return psycopg.connect(os.environ["DATABASE_URL"])
