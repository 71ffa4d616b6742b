"""`shipit local` through the real CLI entry point (no Docker needed for these)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from shipit.cli.main import main

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(REPO / "shipit.yaml.example", tmp_path / "shipit.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
        raise SystemExit(0)
    return int(exc.value.code or 0)


def test_export_prints_a_compose_file(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (example / ".env.staging").write_text("STRIPE_KEY=sk_test_never_printed\n")
    assert _exit_code(["local", "export"]) == 0
    out = capsys.readouterr().out
    assert "sk_test_never_printed" not in out
    assert set(yaml.safe_load(out)["services"]) == {"db-main", "pubsub-emulator", "api", "web", "worker"}


def test_missing_env_key_is_exit_2_naming_file_and_key(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (example / ".env.staging").write_text("OTHER=1\n")
    assert _exit_code(["local", "up"]) == 2
    err = capsys.readouterr().err
    assert ".env.staging: STRIPE_KEY is missing (declared in services.api.secrets, services.worker.secrets)" in err


def test_docker_only_verbs_refuse_the_native_runtime(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(["local", "--runtime", "native", "down"]) == 2
    assert "docker runtime" in capsys.readouterr().err
