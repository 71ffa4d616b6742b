from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from shipit.config import Target, load_config, resolve_target


@pytest.fixture
def make_target(tmp_path: Path) -> Callable[..., Target]:
    def make(text: str, env: str | None = None, dotenv: str | None = None) -> Target:
        path = tmp_path / "shipit.yaml"
        path.write_text(textwrap.dedent(text))
        if dotenv is not None:
            (tmp_path / ".env").write_text(textwrap.dedent(dotenv))
        return resolve_target(load_config(path), env)

    return make
