"""Fixtures of the pipeline e2e tests (the pieces are in pipeline_support.py)."""

from __future__ import annotations

from pipeline_support import project_factory

__all__ = ["project_factory"]
