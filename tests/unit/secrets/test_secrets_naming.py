"""Which keys are declared, and how they are named in Secret Manager."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipit.config import load_config, resolve_target
from shipit.config.target import Target
from shipit.errors import ConfigError, UsageError
from shipit.steps.secrets import declared_keys, key_of, replication, secret_ids

YAML = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
secrets: {extra: [ZED, API_KEY]%s}
services:
  api:
    secrets: [API_KEY, DB_PASSWORD]
    secret_files: {/secrets/sa.json: SA_JSON}
  web:
    build: {context: ., secrets: [NPM_TOKEN]}
"""


def target(tmp_path: Path, extra: str = "") -> Target:
    (tmp_path / "shipit.yaml").write_text(YAML % extra)
    return resolve_target(load_config(tmp_path / "shipit.yaml", "shipit.yaml"), "staging")


def test_declared_keys_are_the_union_of_every_declaration(tmp_path: Path) -> None:
    assert declared_keys(target(tmp_path).config) == {
        "API_KEY": "services.api.secrets",
        "DB_PASSWORD": "services.api.secrets",
        "NPM_TOKEN": "services.web.build.secrets",
        "SA_JSON": "services.api.secret_files",
        "ZED": "secrets.extra",
    }


def test_default_naming_and_its_reverse(tmp_path: Path) -> None:
    t = target(tmp_path)
    assert secret_ids(t, ["API_KEY"]) == {"API_KEY": "acme-staging-API_KEY"}
    assert key_of(t, "acme-staging-API_KEY") == "API_KEY"
    assert key_of(t, "acme-prod-API_KEY") is None


@pytest.mark.parametrize(
    ("naming", "message"),
    [
        ("'{app}-{env}'", "has no {key}: every key would share one secret"),
        ("'{app}-{region}-{key}'", "uses a placeholder other than {app}, {env} and {key}"),
        ("'{app}.{env}.{key}'", "gives 'acme.staging.KEY', not a valid Secret Manager id"),
    ],
)
def test_bad_naming_is_reported_when_the_config_loads(tmp_path: Path, naming: str, message: str) -> None:
    # Caught by `shipit validate` (exit 2, with the line), before any step runs.
    with pytest.raises(ConfigError) as caught:
        target(tmp_path, f", naming: {naming}")
    assert [i.path for i in caught.value.issues] == ["secrets.naming"]
    assert message in caught.value.issues[0].message


def test_replication(tmp_path: Path) -> None:
    assert replication(target(tmp_path)).to_api() == {"automatic": {}}
    user = replication(target(tmp_path, ", replication: {locations: [us-east1]}"))
    assert user.to_api() == {"user_managed": {"replicas": [{"location": "us-east1"}]}}
    with pytest.raises(UsageError, match="no locations"):
        replication(target(tmp_path, ", replication: {automatic: false}"))
