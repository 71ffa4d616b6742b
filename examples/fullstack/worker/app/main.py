"""Pulls order jobs from the Pub/Sub subscription `jobs-worker` and processes them.

The worker runs as a Cloud Run worker pool: no HTTP port, no URL, a fixed number of instances, each
pulling messages. Locally (`shipit local`) the same code pulls from the Pub/Sub emulator, because the
client library honours PUBSUB_EMULATOR_HOST.
"""

from __future__ import annotations

import json
import os
import signal
import threading

import psycopg
from google.cloud import pubsub_v1

SUBSCRIPTION = os.environ.get("JOBS_SUBSCRIPTION", "jobs-worker")


def process(message: pubsub_v1.subscriber.message.Message) -> None:
    job = json.loads(message.data)
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        # Idempotent: Pub/Sub delivers at least once.
        conn.execute("UPDATE orders SET status = 'processed' WHERE id = %s", (job["order_id"],))
    message.ack()


def main() -> None:
    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(os.environ["GOOGLE_CLOUD_PROJECT"], SUBSCRIPTION)
    future = subscriber.subscribe(path, callback=process)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # Cloud Run sends SIGTERM before stopping an instance
    print(f"pulling from {path}", flush=True)
    stop.wait()
    future.cancel()
    future.result(timeout=30)


if __name__ == "__main__":
    main()
