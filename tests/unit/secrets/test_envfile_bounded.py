"""The env file is read bounded and its errors never quote a line that may hold a secret."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shipit.envfile import parse_env_text, read_env_file
from shipit.errors import ConfigError
from shipit.output import Redactor


def _rendered(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_env_text(text, Path(".env"), ".env")
    return [issue.render() for issue in caught.value.issues]


@pytest.mark.parametrize(
    "line",
    [
        "ghp_pastedTokenValue0123456789",  # a token pasted on its own line
        "AKIAHOSTILECANARY7F3A9B",  # upper case: looks like a name, still not echoed
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC+/abc==",  # a PEM body line (has '=' but no valid key)
        "pasted words-0091 here=value-0092",
    ],
)
def test_lines_that_are_not_key_value_are_never_quoted(line: str) -> None:
    rendered = _rendered(f"GOOD=1\n{line}\n")
    assert len(rendered) == 1 and rendered[0].startswith(".env:2: ")
    for part in line.split():
        assert part not in rendered[0]


def test_an_unterminated_quote_is_located_and_masked() -> None:
    from shipit.output import REDACTOR

    rendered = _rendered('A=1\nB="secret-continuation-0042\nmore-secret-0043\n')
    assert rendered[0].startswith(".env:2: cannot parse this line")
    assert "0042" not in " ".join(rendered)
    assert REDACTOR.redact("x more-secret-0043 y") == "x *** y"  # registered in case anything prints it


def test_a_nul_byte_is_located() -> None:
    assert _rendered("A=1\nB=x\x00y\n") == [".env:2: contains a NUL byte (remove it)"]


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_special_files_are_refused_before_reading(tmp_path: Path, kind: str) -> None:
    path = tmp_path / ".env"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")
    with pytest.raises(ConfigError) as caught:
        read_env_file(path, ".env")
    expected = {"fifo": "a named pipe (FIFO)", "directory": "a directory", "device": "a device"}[kind]
    assert caught.value.render() == f".env: is {expected}, not a regular file (point at the env file itself)"


def test_an_oversized_file_is_refused_by_its_size(tmp_path: Path) -> None:
    from shipit.boundedread import ENV_FILE_LIMIT

    path = tmp_path / ".env"
    with path.open("wb") as handle:
        handle.truncate(ENV_FILE_LIMIT + 1)  # sparse: the size alone refuses it
    with pytest.raises(ConfigError, match=r"larger than the \d+ byte limit"):
        read_env_file(path, ".env")


def test_sixteen_thousand_keys_register_in_one_batch(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("".join(f"KEY_{i}=value-{i:06d}\n" for i in range(16_000)))
    assert len(read_env_file(path).values) == 16_000


def test_batch_registration_keeps_longest_first_masking() -> None:
    redactor = Redactor()
    redactor.register_many(["abcd", "abcdefgh", None, b"bytes-value"])
    redactor.register("abcdefghijkl")
    assert redactor.redact("abcdefghijkl abcdefgh abcd bytes-value") == "*** *** *** ***"
