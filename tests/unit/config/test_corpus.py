"""A corpus of broken shipit.yaml files run through the real CLI: exit 2, no traceback, the exact message.

Each corpus/NAME.yaml has its expected stderr next to it in corpus/NAME.expected. The file is validated as
`shipit.yaml` in a temporary directory, so messages read `shipit.yaml:LINE:COL: ...`. After an intended change
of wording, regenerate with `SHIPIT_REGEN_CORPUS=1 pytest tests/unit/config/test_corpus.py` and review the diff.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from shipit.cli.main import main
from shipit.config.yamlmarks import MAX_CONFIG_BYTES

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.stem for p in CORPUS.glob("*.yaml"))
REGEN = os.environ.get("SHIPIT_REGEN_CORPUS") == "1"


class _Main(click.Command):
    """Lets CliRunner drive shipit's real entry point, error handler included."""

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        return main(list(args or []))


def _validate(directory: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.chdir(directory)
    return CliRunner().invoke(_Main("shipit"), ["validate"], env={"NO_COLOR": "1"})


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert all((CORPUS / f"{name}.expected").is_file() or REGEN for name in CASES)


@pytest.mark.parametrize("name", CASES)
def test_corpus_case(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(CORPUS / f"{name}.yaml", tmp_path / "shipit.yaml")
    result = _validate(tmp_path, monkeypatch)
    expected_file = CORPUS / f"{name}.expected"
    if REGEN:
        expected_file.write_text(result.stderr)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr == expected_file.read_text()
    assert all(line.startswith("error: shipit.yaml") for line in result.stderr.splitlines())


def test_huge_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Generated rather than committed: a valid head followed by megabytes of comments.
    (tmp_path / "shipit.yaml").write_text("version: 1\napp: acme\n" + ("#" * 1023 + "\n") * 2048)
    result = _validate(tmp_path, monkeypatch)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: shipit.yaml: file is {21 + 1024 * 2048} bytes, larger than the {MAX_CONFIG_BYTES} byte limit "
        "(a shipit.yaml this large is almost certainly not one; check the -f path)\n"
    )


@pytest.mark.parametrize("name", ["empty", "non-utf8", "tab-indent", "duplicate-service", "many-problems"])
def test_corpus_case_as_a_subprocess(name: str, tmp_path: Path) -> None:
    shutil.copyfile(CORPUS / f"{name}.yaml", tmp_path / "shipit.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "shipit", "validate", "-f", "shipit.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr == (CORPUS / f"{name}.expected").read_text()
