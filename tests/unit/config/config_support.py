"""Helpers shared by the config tests (a uniquely named module: conftest.py is not importable by name)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from shipit.config import LoadedConfig

# Four lines, so the first line of a test's body is line 5 of the file.
HEAD = """\
version: 1
app: acme
environments:
  prod: {project: acme-prod, region: us-central1}
"""

Errors = Callable[[str | bytes], list[str]]
Load = Callable[[str | bytes], LoadedConfig]


def write(directory: Path, text: str | bytes, name: str = "shipit.yaml") -> Path:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
