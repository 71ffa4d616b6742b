from __future__ import annotations

import ast
from pathlib import Path


def test_app_modules_parse() -> None:
    for path in (Path(__file__).parent.parent / "app").glob("*.py"):
        ast.parse(path.read_text())
