"""`shipit init` on a corpus of compose projects (tests/init_corpus/NAME): init -> validate -> plan --offline.

Each project has an expected.yaml:
  config:   a subset of the written shipit.yaml (mappings compared key by key, anything else exactly)
  findings: rows of init's report ("STATUS SUBJECT") that must be there
  decide:   the exact subjects init asks the user to decide
  absent:   text that must not appear in shipit.yaml (local-only values, secret values)
  files:    files init must write (generated Dockerfiles)
Every compose service must be named in the report (nothing is dropped silently), and no value of the
project's .env may reach shipit.yaml.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli_runner import invoke
from shipit.initcompose import find_compose, load_compose

CORPUS = Path(__file__).resolve().parents[2] / "init_corpus"
PROJECTS = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.yaml").is_file())


def _subset(expected: Any, actual: Any, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected a mapping, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} is missing (have: {sorted(actual)})"
            _subset(value, actual[key], f"{where}.{key}")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def _init(root: Path) -> tuple[dict[str, Any], list[dict[str, str]], str]:
    result = invoke("--json", "init", str(root), "--yes")
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout.strip().splitlines()[-1])["findings"]
    text = (root / "shipit.yaml").read_text()
    return yaml.safe_load(text), findings, text


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.is_file() else []


def test_the_corpus_is_varied() -> None:
    assert len(PROJECTS) >= 15


@pytest.mark.parametrize("name", PROJECTS)
def test_init_validate_plan(name: str, tmp_path: Path) -> None:
    root = tmp_path / name
    shutil.copytree(CORPUS / name, root)
    (root / "expected.yaml").unlink()
    expected = yaml.safe_load((CORPUS / name / "expected.yaml").read_text())

    config, findings, text = _init(root)
    _subset(expected.get("config") or {}, config, "shipit.yaml")
    rows = {f"{f['status']} {f['subject']}" for f in findings}
    missing = [row for row in expected.get("findings") or [] if row not in rows]
    assert not missing, f"missing report rows {missing} in:\n" + "\n".join(sorted(rows))
    decisions = sorted(f["subject"] for f in findings if f["status"] == "decide")
    assert decisions == sorted(expected.get("decide") or []), findings
    for needle in expected.get("absent") or []:
        assert needle not in text
    for path in expected.get("files") or []:
        assert (root / path).is_file(), path

    compose = find_compose(root)
    assert compose is not None
    reported = " ".join(f"{f['subject']} {f['detail']}" for f in findings)
    for service in load_compose(root, compose).services:
        assert service in reported, f"compose service {service} is not in the report"
    for line in _lines(root / ".env"):
        value = line.partition("=")[2]
        if len(value) >= 6:
            assert value not in text, "a .env value was copied into shipit.yaml"

    # What validate checks once secrets must be in .env: every declared key is there, or init asked for it.
    dotenv = {line.partition("=")[0] for line in _lines(root / ".env")}
    for name, svc in config["services"].items():
        declared = [*svc.get("secrets", []), *svc.get("secret_files", {}).values()]
        declared += (svc.get("build") or {}).get("secrets", [])
        for key in declared:
            asked = any(d.startswith(f"services.{name}.") and d.endswith(f".{key}") for d in decisions)
            assert key in dotenv or asked, f"services.{name}: {key} is neither in .env nor asked for"

    validated = invoke("-f", str(root / "shipit.yaml"), "validate")
    assert validated.exit_code == 0, validated.output
    planned = invoke("-f", str(root / "shipit.yaml"), "plan", "--offline", "--json")
    assert planned.exit_code == 0, planned.output
    assert "would stop" not in planned.output, planned.output
    plan = json.loads(planned.stdout)
    # Every service is deployed by some step (Cloud Run services, or worker pools where they exist).
    deployed = {
        change["resource"].split()[-1]
        for step in plan["steps"]
        if step["step"] not in ("test", "build", "infra", "push", "secrets", "migrate", "verify")
        for change in step["changes"]
    }
    assert set(config["services"]) <= deployed, plan["steps"]


def test_guessed_answers_are_said_and_given_ones_are_not(tmp_path: Path) -> None:
    """Guesses are said out loud: project id, region and app name when not passed."""
    root = tmp_path / "app"
    shutil.copytree(CORPUS / "first-hour", root)
    result = invoke("init", str(root), "--yes")
    assert result.exit_code == 0, result.output
    for row in ("guessed  environments.staging.project", "guessed  environments.staging.region", "guessed  app"):
        assert row in result.output
    assert "the first environment's name: pass --env to choose" in result.output
    given = invoke(
        "init", str(root), "--yes", "--force", "--project", "acme-prod-1", "--region", "europe-west1", "--env", "prod"
    )
    assert given.exit_code == 0, given.output
    assert "environments.prod.project" not in given.output and "environments.prod.region" not in given.output
    assert "pass --env" not in given.output
