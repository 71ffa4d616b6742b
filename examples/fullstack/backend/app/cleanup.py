"""The nightly `cleanup` Cloud Run job (jobs.cleanup in shipit.yaml): drops processed orders older than 30 days.

Idempotent, as every Cloud Run job task must be: Cloud Run may retry a task that already succeeded.
"""

from __future__ import annotations

from app.db import connect

if __name__ == "__main__":
    with connect() as conn:
        deleted = conn.execute(
            "DELETE FROM orders WHERE status = 'processed' AND created_at < now() - interval '30 days'"
        ).rowcount
    print(f"cleanup: {deleted} processed order(s) removed")
