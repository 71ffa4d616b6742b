"""Property: `shipit ci generate` values (--wif-provider, --deployer, --branch, the environment) are either
refused or read back unchanged from the generated YAML, and never reach a GitHub expression or a shell line."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from generator_props import PROPERTY, hostile_text
from hypothesis import given
from hypothesis import strategies as st

from cli_runner import invoke
from shipit import values
from shipit.config import load_config, resolve_target
from shipit.render.ci import CiOptions, cloudbuild_yaml, github_workflow_yaml

CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
services:
  api:
    build: {context: ., secrets: [NPM_TOKEN]}
test: {command: pytest, secrets: [TEST_KEY]}
"""
WIF = "projects/123456/locations/global/workloadIdentityPools/github/providers/github-main"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("ci")
    (root / "shipit.yaml").write_text(CONFIG)
    return resolve_target(load_config(root / "shipit.yaml", "shipit.yaml"), "staging").config


def _runs(document: dict[str, Any]) -> list[str]:
    return [step["run"] for step in document["jobs"]["deploy"]["steps"] if "run" in step]


@PROPERTY
@given(
    st.one_of(hostile_text, st.just(WIF), hostile_text.map(lambda s: WIF + s)),
    st.one_of(hostile_text, st.just("deployer@acme-prod.iam.gserviceaccount.com")),
    st.one_of(hostile_text, st.just("release/v1.2")),
    st.one_of(hostile_text, st.just("prod")),
)
def test_values_are_refused_or_round_trip(config: Any, wif: str, deployer: str, branch: str, env: str) -> None:
    try:
        options = CiOptions(env, wif_provider=wif, deployer=deployer, branch=branch)
    except values.InvalidValue as exc:
        assert "\n" not in str(exc)
        return
    github = yaml.safe_load(github_workflow_yaml(config, options))
    auth = next(s for s in github["jobs"]["deploy"]["steps"] if s.get("id") == "auth")
    assert auth["with"] == {"workload_identity_provider": wif, "service_account": deployer}
    assert github["on"]["push"]["branches"] == [branch]
    assert github["jobs"]["deploy"]["env"]["SHIPIT_ENV"] == "${{ vars.SHIPIT_ENV || '" + env + "' }}"
    for value in (wif, deployer, branch, env):
        assert "${{" not in value and "'" not in value
    for line in _runs(github):
        tokens = shlex.split(line)
        assert tokens[0] in ("pip", "shipit")
    cloudbuild = yaml.safe_load(cloudbuild_yaml(config, options))
    assert cloudbuild["substitutions"] == {"_ENV": env}
    for step in cloudbuild["steps"][1:]:
        assert step["args"][:3] == ["deploy", "--env", "${_ENV}"]


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--wif-provider", "$(curl evil)"),
        ("--wif-provider", "${{ secrets.GITHUB_TOKEN }}"),
        ("--deployer", "not-an-email"),
        ("--deployer", "a@b.com\nrun: evil"),
        ("--branch", "main' }}"),
    ],
)
def test_generate_refuses_bad_values_naming_the_flag(
    flag: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shipit.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    result = invoke("ci", "generate", "--provider", "github", flag, value)
    assert result.exit_code == 2, result.output
    assert flag in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / ".github").exists()
