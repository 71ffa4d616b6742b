"""Google Cloud clients (REST transport), credentials, endpoints and error translation."""

from __future__ import annotations
