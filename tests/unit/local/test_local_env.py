"""The local environment of each service, and its parity with what the cloud deploy gives it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from shipit.config import Target, load_config, resolve_target
from shipit.errors import ConfigError
from shipit.local.compose_file import compose_endpoints
from shipit.local.env import (
    EMULATOR_VARS,
    PLATFORM_VARS,
    DatabaseEndpoint,
    Endpoints,
    all_service_envs,
    cloud_env_names,
    load_secret_values,
    parity_warnings,
)
from shipit.local.redis import CacheEndpoint
from shipit.output import REDACTOR

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "shipit.yaml.example"


def target_from(path: Path, env: str | None = None) -> Target:
    return resolve_target(load_config(path), env)


EXAMPLES = [EXAMPLE, *sorted(REPO.glob("examples/*/shipit.yaml"))]


def _native_endpoints(target: Target) -> Endpoints:
    services = target.config.services
    return Endpoints(
        runtime="native",
        service_urls={name: f"http://127.0.0.1:{9000 + i}" for i, name in enumerate(services)},
        service_ports={name: 9000 + i for i, name in enumerate(services)},
        databases={key: DatabaseEndpoint("127.0.0.1", 5555, key, "app") for key in target.config.databases},
        pubsub_host="127.0.0.1:8086" if target.config.pubsub else None,
        caches={key: CacheEndpoint("127.0.0.1", 6390, "local-pw") for key in target.config.caches},
    )


def _secrets(target: Target) -> dict[str, str]:
    return {key: f"value-of-{key}" for svc in target.config.services.values() for key in svc.secrets}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: str(p.relative_to(REPO)))
def test_local_names_equal_cloud_names_for_every_example(example: Path) -> None:
    base = target_from(example)
    for env_name in base.config.environments:
        target = target_from(example, env_name)
        for endpoints in (compose_endpoints(target), _native_endpoints(target)):
            envs = all_service_envs(target, endpoints, _secrets(target))
            for name, env in envs.items():
                assert env.parity_names() == cloud_env_names(target.config, name), (env_name, endpoints.runtime, name)
                assert env.names - env.parity_names() <= PLATFORM_VARS | EMULATOR_VARS


def test_values_point_at_local_services(make_target: Callable[..., Target]) -> None:
    target = make_target(
        """
        version: 1
        app: shop
        environments: {dev: {project: shop-dev-1, region: us-central1}}
        databases: {main: {name: shopdb, env_var: DB_URL}}
        services:
          api:
            port: 9090
            env: {GREETING: "hi $${literal}", PROJECT: "${environment.project}"}
            databases: [main]
            secrets: [STRIPE_KEY]
          web:
            env: {API_URL: "${services.api.url}", DB_HOST: "${databases.main.host}"}
        pubsub: {topics: {jobs: {}}}
        """
    )
    compose = all_service_envs(target, compose_endpoints(target), {"STRIPE_KEY": "sk"})
    assert compose["api"].plain["DB_URL"] == "postgresql://app:shipit@db-main:5432/shopdb"
    assert compose["api"].plain["GREETING"] == "hi ${literal}"
    assert compose["api"].plain["PROJECT"] == "shop-dev-1"
    assert compose["api"].plain["PORT"] == "9090"
    assert compose["api"].secrets == {"STRIPE_KEY": "sk"}
    assert compose["web"].plain["API_URL"] == "http://api:9090"
    assert compose["web"].plain["DB_HOST"] == "db-main"
    assert compose["web"].plain["PUBSUB_EMULATOR_HOST"] == "pubsub-emulator:8085"
    native = all_service_envs(target, _native_endpoints(target), {"STRIPE_KEY": "sk"})
    assert native["web"].plain["API_URL"] == "http://127.0.0.1:9000"
    assert native["api"].plain["DB_URL"] == "postgresql://app:shipit@127.0.0.1:5555/main"


def test_local_only_variable_is_warned_about(make_target: Callable[..., Target]) -> None:
    target = make_target(
        """
        version: 1
        app: shop
        environments: {dev: {project: shop-dev-1, region: us-central1}}
        services:
          api:
            env: {LOG_LEVEL: info}
            local: {env: {LOG_LEVEL: debug, DEBUG_TOOLBAR: "1"}}
        """
    )
    envs = all_service_envs(target, compose_endpoints(target), {})
    assert envs["api"].local_only == ("DEBUG_TOOLBAR",)
    assert envs["api"].plain["LOG_LEVEL"] == "debug"  # local override of a cloud variable: same name, no warning
    warnings = parity_warnings(envs, target.config)
    assert len(warnings) == 1
    assert "DEBUG_TOOLBAR" in warnings[0] and "cloud deploy would lack it" in warnings[0]


def test_secret_files_are_not_variables(make_target: Callable[..., Target]) -> None:
    target = make_target(
        """
        version: 1
        app: shop
        environments: {dev: {project: shop-dev-1, region: us-central1}}
        services:
          api: {secrets: [A_KEY], secret_files: {/secrets/sa.json: SA_JSON}}
        """
    )
    assert cloud_env_names(target.config, "api") == {"A_KEY"}


SECRETS_YAML = """
version: 1
app: shop
environments: {dev: {project: shop-dev-1, region: us-central1}}
services:
  api: {secrets: [STRIPE_KEY, MAIL_KEY]}
  worker: {secrets: [STRIPE_KEY]}
"""


def test_secret_values_come_from_the_env_file_and_are_redacted(make_target: Callable[..., Target]) -> None:
    target = make_target(SECRETS_YAML, dotenv="STRIPE_KEY=sk_live_abcdef\nMAIL_KEY='mail secret'\nOTHER=x\n")
    values = load_secret_values(target)
    assert values == {"STRIPE_KEY": "sk_live_abcdef", "MAIL_KEY": "mail secret"}
    assert REDACTOR.redact("key sk_live_abcdef") == "key ***"


def test_missing_key_names_file_and_key(make_target: Callable[..., Target], tmp_path: Path) -> None:
    target = make_target(SECRETS_YAML, dotenv="STRIPE_KEY=sk_live_abcdef\n")
    with pytest.raises(ConfigError) as err:
        load_secret_values(target)
    assert err.value.exit_code == 2
    [issue] = err.value.issues
    assert issue.location.file.endswith(".env")
    assert "MAIL_KEY is missing (declared in services.api.secrets)" in issue.render()
    assert "sk_live_abcdef" not in issue.render()


def test_missing_env_file(make_target: Callable[..., Target], tmp_path: Path) -> None:
    target = make_target(SECRETS_YAML)
    with pytest.raises(ConfigError) as err:
        load_secret_values(target)
    messages = [issue.render() for issue in err.value.issues]
    assert any("does not exist" in m and "STRIPE_KEY" in m for m in messages)


def test_example_loads_with_its_env_file(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "shipit.yaml")
    (tmp_path / ".env.staging").write_text("STRIPE_KEY=sk_test_123456\n")
    assert load_secret_values(target_from(tmp_path / "shipit.yaml")) == {"STRIPE_KEY": "sk_test_123456"}
