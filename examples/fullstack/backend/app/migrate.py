"""Run by `shipit deploy` as a Cloud Run job before traffic moves (and by `shipit local up`)."""

from __future__ import annotations

from app.db import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id SERIAL PRIMARY KEY,
    item TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""

if __name__ == "__main__":
    with connect() as conn:
        conn.execute(SCHEMA)
    print("migrations applied")
