from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory holding a copy of shipit.yaml.example as shipit.yaml, as the current directory."""
    (tmp_path / "shipit.yaml").write_text((ROOT / "shipit.yaml.example").read_text())
    # What the example points at, so `validate` (which checks build contexts and target stages) passes.
    for context in ("backend", "frontend"):
        (tmp_path / context).mkdir()
        (tmp_path / context / "Dockerfile").write_text("FROM scratch AS dev\nFROM scratch AS runtime\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path
