"""Reading and writing env files (python-dotenv's parser), with located errors that never quote a line."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shipit.envfile import parse_env_text, read_env_file, render_env, write_private
from shipit.errors import ConfigError, UsageError
from shipit.output import REDACTOR

TEXT = """\
# a comment
PLAIN=plain-value-1
export EXPORTED=exported-value-2
DOUBLE="double quoted # not a comment"
SINGLE='single $NOT_EXPANDED ${NOR_THIS}'
MULTI="first line
second line"
EMPTY=
INLINE=value-3 # trailing comment

SPACED = spaced-value-4
"""


def parse(text: str) -> dict[str, str]:
    return dict(parse_env_text(text, Path(".env"), ".env").values)


def test_dotenv_syntax_is_understood() -> None:
    assert parse(TEXT) == {
        "PLAIN": "plain-value-1",
        "EXPORTED": "exported-value-2",
        "DOUBLE": "double quoted # not a comment",
        "SINGLE": "single $NOT_EXPANDED ${NOR_THIS}",
        "MULTI": "first line\nsecond line",
        "EMPTY": "",
        "INLINE": "value-3",
        "SPACED": "spaced-value-4",
    }


def test_line_numbers_follow_multi_line_values() -> None:
    env = parse_env_text(TEXT, Path(".env"), ".env.prod")
    assert env.lines["MULTI"] == 6 and env.lines["EMPTY"] == 8
    assert str(env.location("SPACED")) == ".env.prod:11"


def test_invalid_lines_are_reported_with_file_and_line_and_never_quoted() -> None:
    text = 'GOOD=1\nthis line is secret-ish-0071\nOTHER="unterminated-0072\nNOVALUE\n'
    with pytest.raises(ConfigError) as caught:
        parse_env_text(text, Path(".env"), ".env.staging")
    rendered = [i.render() for i in caught.value.issues]
    assert rendered[0].startswith(".env.staging:2: cannot parse this line")
    assert ".env.staging:4: not KEY=VALUE (write KEY=value, or KEY= for an empty value)" in rendered
    assert caught.value.exit_code == 2
    assert "0071" not in caught.value.render() and "0072" not in caught.value.render()


def test_values_are_registered_for_redaction() -> None:
    parse("TOKEN=redact-me-please-5521\n")
    assert REDACTOR.redact("leaked redact-me-please-5521!") == "leaked ***!"


def test_duplicates_are_recorded_and_the_last_wins() -> None:
    env = parse_env_text("A=one\nB=x\nA=two\n", Path(".env"), ".env")
    assert env.values["A"] == "two" and env.duplicates == {"A": (1, 3)}


def test_missing_file_is_empty_unless_required(tmp_path: Path) -> None:
    env = read_env_file(tmp_path / ".env", ".env")
    assert not env.exists and env.values == {}
    with pytest.raises(UsageError, match=r"\.env does not exist"):
        read_env_file(tmp_path / ".env", ".env", missing_ok=False)


def test_non_utf8_file_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"A=1\nB=\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"\.env:2:3: is not valid UTF-8"):
        read_env_file(tmp_path / ".env", ".env")


@pytest.mark.parametrize(
    "value",
    ["plain", "it's", 'say "hi"', "back\\slash", "trailing\\", "\\'", "a\nb\n", "#hash", " spaced ", "$X ${Y}", "é✓"],
)
def test_rendered_values_read_back_unchanged(value: str) -> None:
    assert parse(render_env([("KEY", value)], ["header line"])) == {"KEY": value}


def test_write_private_is_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "out.env"
    write_private(path, "A='1'\n", overwrite=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(UsageError, match="already exists"):
        write_private(path, "A='2'\n", overwrite=False)
    path.chmod(0o644)
    write_private(path, "A='2'\n", overwrite=True)
    assert path.read_text() == "A='2'\n" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.env"]
