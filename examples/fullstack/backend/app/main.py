"""Orders API: stores orders in Postgres and queues a job for the worker through Pub/Sub."""

from __future__ import annotations

import json
import os

from fastapi import FastAPI
from google.cloud import pubsub_v1

from app.db import connect

app = FastAPI()
publisher = pubsub_v1.PublisherClient()  # honours PUBSUB_EMULATOR_HOST locally


@app.get("/health")
def health() -> dict[str, str]:
    with connect() as conn:
        conn.execute("SELECT 1")
    return {"status": "ok", "payments": "configured" if os.environ.get("STRIPE_KEY") else "missing"}


@app.post("/orders")
def create_order(item: str) -> dict[str, object]:
    with connect() as conn:
        row = conn.execute("INSERT INTO orders (item) VALUES (%s) RETURNING id", (item,)).fetchone()
    order_id = row[0] if row else None
    topic = publisher.topic_path(os.environ["GOOGLE_CLOUD_PROJECT"], os.environ["JOBS_TOPIC"])
    publisher.publish(topic, json.dumps({"order_id": order_id}).encode()).result(timeout=10)
    return {"id": order_id, "status": "new"}


@app.get("/orders")
def list_orders() -> list[dict[str, object]]:
    with connect() as conn:
        rows = conn.execute("SELECT id, item, status FROM orders ORDER BY id").fetchall()
    return [{"id": r[0], "item": r[1], "status": r[2]} for r in rows]
