"""Receives Pub/Sub push deliveries (OIDC-authenticated by Cloud Run's IAM) and processes orders."""

from __future__ import annotations

import base64
import json
import os

import psycopg
from fastapi import FastAPI, Request, Response

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/pubsub/push")
async def push(request: Request) -> Response:
    envelope = await request.json()
    job = json.loads(base64.b64decode(envelope["message"]["data"]))
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute("UPDATE orders SET status = 'processed' WHERE id = %s", (job["order_id"],))
    return Response(status_code=204)  # 2xx acks the message
