"""Each command and global option through the real entry point (CliRunner), including the error paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from cli_support import invoke

from shipit import __version__
from shipit.cli.main import COMMANDS
from shipit.config.schema import json_schema_text

VALID = "shipit.yaml is valid: 3 service(s), environments: staging, prod\n"


def test_version() -> None:
    result = invoke("--version")
    assert (result.exit_code, result.stdout) == (0, f"shipit, version {__version__}\n")


def test_help_lists_commands_without_importing_them() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for name, (_target, help_line) in COMMANDS.items():
        assert re.search(rf"^  {re.escape(name)}\s+{re.escape(help_line[:30])}", result.stdout, re.M), name
    assert "Exit codes: 0 ok, 1 a step failed, 2 bad input or usage, 130 interrupted." in result.stdout


def test_validate(project: Path) -> None:
    result = invoke("validate")
    assert (result.exit_code, result.stdout, result.stderr) == (0, VALID, "")


def test_validate_global_options_before_or_after(project: Path) -> None:
    assert invoke("-e", "prod", "validate").exit_code == 0
    assert invoke("validate", "-e", "prod").exit_code == 0


def test_validate_quiet(project: Path) -> None:
    result = invoke("validate", "-q")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_validate_json(project: Path) -> None:
    result = invoke("--json", "validate")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "valid": True,
        "file": "shipit.yaml",
        "environments": ["staging", "prod"],
        "services": ["api", "web", "worker"],
    }
    assert result.stderr == VALID  # human text moves to stderr


def test_validate_invalid_json(project: Path) -> None:
    (project / "shipit.yaml").write_text("version: 1\napp: Acme\n")
    result = invoke("validate", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "error": {
            "exit_code": 2,
            "issues": [
                "shipit.yaml:1:1: environments: missing required key 'environments'",
                "shipit.yaml:1:1: services: missing required key 'services'",
                "shipit.yaml:2:6: app: 'Acme' is not a valid app name "
                "(lowercase letters, digits and hyphens, starting with a letter, at most 20 characters)",
            ],
        }
    }


def test_file_option_with_a_path(project: Path) -> None:
    other = project / "deploy"
    other.mkdir()
    (project / "shipit.yaml").rename(other / "prod.yaml")
    for context in ("backend", "frontend"):  # paths are relative to the config file
        (project / context).rename(other / context)
    result = invoke("validate", "-f", "deploy/prod.yaml")
    assert (result.exit_code, result.stdout) == (0, VALID.replace("shipit.yaml", "deploy/prod.yaml"))
    result = invoke("--file", str(other / "prod.yaml"), "validate")
    assert (result.exit_code, result.stdout) == (0, VALID.replace("shipit.yaml", "deploy/prod.yaml"))


def test_file_option_missing_file(project: Path) -> None:
    result = invoke("validate", "-f", "nope.yaml")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: nope.yaml: file not found (run `shipit init` or pass -f FILE)\n",
    )


def test_config_found_by_searching_upward(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = project / "backend" / "app"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result = invoke("validate")
    assert (result.exit_code, result.stdout) == (0, VALID.replace("shipit.yaml", "../../shipit.yaml"))


def test_errors_found_by_searching_upward_name_a_relative_path(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "shipit.yaml").write_text("version: 1\napp: acme\nservics: {}\n")
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    result = invoke("validate")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "error: ../shipit.yaml:3:1: servics: unknown key 'servics' (did you mean 'services'?)"
    )


def test_no_config_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("validate")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: no shipit.yaml in {tmp_path} or any parent directory (run `shipit init`, or pass -f FILE)\n"
    )


def test_unknown_environment_did_you_mean(project: Path) -> None:
    result = invoke("validate", "-e", "prd")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "error: environment 'prd' is not defined in shipit.yaml (did you mean 'prod'?)\n",
    )


def test_several_environments_without_default(project: Path) -> None:
    text = (project / "shipit.yaml").read_text().replace("default_environment: staging\n", "")
    (project / "shipit.yaml").write_text(text)
    result = invoke("config", "show")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: shipit.yaml defines several environments (staging, prod) "
        "(pick one with -e/--env or set default_environment)\n",
    )
    assert invoke("validate").exit_code == 0  # validate checks every environment; it needs none picked


def test_config_show_yaml_default_environment(project: Path) -> None:
    result = invoke("config", "show")
    assert result.exit_code == 0
    data = yaml.safe_load(result.stdout)
    assert data["environment"] == "staging"
    assert data["target"] == {"project": "acme-staging", "region": "us-central1", "production": False}
    assert data["services"]["api"]["cloud_run"]["min_instances"] == 0
    assert "environments" not in data


def test_config_show_json_with_env(project: Path) -> None:
    for args in (("config", "show", "--format", "json", "-e", "prod"), ("--json", "-e", "prod", "config", "show")):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["environment"] == "prod"
        assert data["target"] == {"project": "acme-prod", "region": "europe-west1", "production": True}
        assert data["services"]["api"]["cloud_run"]["min_instances"] == 1  # the prod overlay
        assert data["databases"]["main"]["availability"] == "regional"


def test_config_show_bad_format(project: Path) -> None:
    result = invoke("config", "show", "--format", "toml")
    assert result.exit_code == 2
    assert "Invalid value for '--format': 'toml' is not one of 'yaml', 'json'." in result.stderr


def test_schema_prints_the_published_schema() -> None:
    result = invoke("schema")
    assert (result.exit_code, result.stdout) == (0, json_schema_text())


def test_bad_option_is_a_usage_error() -> None:
    result = invoke("--bogus")
    assert result.exit_code == 2
    assert "Error: No such option '--bogus'. Did you mean '--verbose'?" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = invoke("deploi")
    assert result.exit_code == 2
    assert "Error: No such command 'deploi'." in result.stderr


def test_bad_option_json(project: Path) -> None:
    result = invoke("validate", "--json", "--nope")
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {"error": {"exit_code": 2, "message": "No such option '--nope'."}}


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("boom", "interrupt", "options"):
        monkeypatch.setitem(COMMANDS, name, (f"cli_probe_commands:{name}", "test only"))


def test_unexpected_exception_writes_a_crash_log(probes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    result = invoke("boom")
    assert result.exit_code == 1
    match = re.fullmatch(
        r"error: unexpected RuntimeError: kaboom \(this is a bug in shipit; traceback written to (\S+), "
        r"or rerun with -v\)\n",
        result.stderr,
    )
    assert match, result.stderr
    log = Path(match.group(1))
    assert log.parent == tmp_path / "state" / "shipit"
    assert "Traceback" in log.read_text() and "RuntimeError: kaboom" in log.read_text()
    assert "Traceback" not in result.output


def test_unexpected_exception_verbose_prints_the_traceback(
    probes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for args in (("-v", "boom"), ("boom", "--verbose"), ("boom", "-vv")):
        result = invoke(*args)
        assert result.exit_code == 1
        assert result.stderr.startswith("Traceback (most recent call last):")
        assert result.stderr.rstrip().endswith("RuntimeError: kaboom")
    assert not (tmp_path / "state").exists()


def test_unexpected_exception_json(probes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    result = invoke("boom", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"error": {"exit_code": 1, "message": "unexpected error: RuntimeError"}}


def test_keyboard_interrupt_exits_130(probes: None) -> None:
    result = invoke("interrupt")
    # click prints a newline first, so "interrupted" does not land after the terminal's ^C.
    assert (result.exit_code, result.stderr) == (130, "\ninterrupted\n")


def test_global_options_are_parsed(probes: None, project: Path) -> None:
    result = invoke("-q", "options", "--no-color", "-vv", "--json", "-e", "prod", "-f", "x.yaml")
    assert result.exit_code == 0
    assert result.stdout == (
        "Options(file='x.yaml', env='prod', json=True, verbose=2, quiet=True, no_color=True) "
        "color=False quiet=True json=True\n"
    )
