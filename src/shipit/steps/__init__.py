"""Pipeline steps. Each module exposes ``plan(ctx) -> Plan`` and ``apply(ctx, plan) -> result``."""

from __future__ import annotations
