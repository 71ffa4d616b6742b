"""Environment overlays (deep-merged over the top level) and resolving the target environment."""

from __future__ import annotations

import pytest
from config_support import Errors, Load

from shipit.config import resolve_target
from shipit.errors import UsageError

TWO_ENVS = """\
version: 1
app: acme
environments:
  staging:
    project: acme-staging
    region: us-central1
  prod:
    project: acme-prod
    region: europe-west1
    services:
      api:
        env: {LOG_LEVEL: warning}
        cloud_run: {min_instances: 2, memory: 1Gi}
    databases:
      main: {tier: db-g1-small}
    registry: {repository: prod-images}
    infra: {backend: local}
databases:
  main: {disk_gb: 20}
registry: {repository: apps}
services:
  api:
    env: {LOG_LEVEL: info, REGION: here}
    cloud_run: {max_instances: 10, memory: 512Mi}
"""


def test_deep_merge(load: Load) -> None:
    loaded = load(TWO_ENVS)
    prod = loaded.merged["prod"]
    api = prod.services["api"]
    assert dict(api.env) == {"LOG_LEVEL": "warning", "REGION": "here"}
    assert (api.cloud_run.min_instances, api.cloud_run.max_instances, api.cloud_run.memory) == (2, 10, "1Gi")
    assert (prod.databases["main"].tier, prod.databases["main"].disk_gb) == ("db-g1-small", 20)
    assert prod.registry.repository == "prod-images"
    assert prod.infra.backend == "local"


def test_environment_without_overlay_is_the_base(load: Load) -> None:
    loaded = load(TWO_ENVS)
    assert loaded.merged["staging"] == loaded.base
    assert loaded.base.services["api"].env["LOG_LEVEL"] == "info"


def test_overlay_error_at_overlay_line_with_environment_path(errors: Errors) -> None:
    text = TWO_ENVS.replace("min_instances: 2, memory: 1Gi", "min_instances: 2, memory: 1GB")
    assert errors(text) == [
        "shipit.yaml:13:47: environments.prod.services.api.cloud_run.memory: '1GB' is not a valid memory size "
        "(use e.g. 512Mi, 1Gi)"
    ]


def test_overlay_unknown_key(errors: Errors) -> None:
    text = TWO_ENVS.replace("cloud_run: {min_instances: 2,", "cloud_run: {min_instance: 2,")
    assert errors(text) == [
        "shipit.yaml:13:21: environments.prod.services.api.cloud_run.min_instance: unknown key 'min_instance' "
        "(did you mean 'min_instances'?)"
    ]


def test_overlay_cross_field_problem_at_overlay_line(errors: Errors) -> None:
    # min 20 > max 10 exists only in prod: reported where prod sets it.
    text = TWO_ENVS.replace("min_instances: 2,", "min_instances: 20,")
    assert errors(text) == [
        "shipit.yaml:13:36: environments.prod.services.api.cloud_run.min_instances: min_instances (20) is greater "
        "than max_instances (10) (lower min_instances or raise max_instances)"
    ]


def test_cross_field_problem_of_base_value_in_one_environment(errors: Errors) -> None:
    # The base max (1) is below prod's min (2): the problem is in a base value, so the base line is named.
    text = TWO_ENVS.replace("max_instances: 10", "max_instances: 1")
    assert errors(text) == [
        "shipit.yaml:13:36: environments.prod.services.api.cloud_run.min_instances: min_instances (2) is greater "
        "than max_instances (1) (lower min_instances or raise max_instances)"
    ]


def test_overlay_reference_error(errors: Errors) -> None:
    text = TWO_ENVS.replace("env: {LOG_LEVEL: warning}", "env: {LOG_LEVEL: '${services.nope.url}'}")
    assert errors(text) == [
        "shipit.yaml:12:26: environments.prod.services.api.env.LOG_LEVEL: ${services.nope.url}: service 'nope' "
        "is not defined (defined: api)"
    ]


def test_overlay_section_wrong_type(errors: Errors) -> None:
    text = TWO_ENVS.replace("registry: {repository: prod-images}", "registry: [prod-images]")
    assert errors(text) == ["shipit.yaml:16:15: environments.prod.registry: expected a mapping, got a list"]


def test_overlay_replaces_lists(load: Load) -> None:
    text = TWO_ENVS.replace("env: {LOG_LEVEL: warning}", "secrets: [B]").replace(
        "env: {LOG_LEVEL: info, REGION: here}", "secrets: [A]"
    )
    assert load(text).merged["prod"].services["api"].secrets == ("B",)


def test_resolve_target_with_env(load: Load) -> None:
    target = resolve_target(load(TWO_ENVS), "prod")
    assert (target.env_name, target.project, target.region, target.production) == (
        "prod",
        "acme-prod",
        "europe-west1",
        True,
    )
    assert target.repository == "prod-images"
    assert target.config.services["api"].cloud_run.min_instances == 2


def test_resolve_target_default_environment(load: Load) -> None:
    target = resolve_target(load("default_environment: staging\n" + TWO_ENVS), None)
    assert (target.env_name, target.project, target.production) == ("staging", "acme-staging", False)


def test_resolve_target_only_environment(load: Load) -> None:
    text = "version: 1\napp: acme\nenvironments:\n  dev: {project: acme-dev1, region: us-east1}\n"
    target = resolve_target(load(text + "services:\n  api: {}\n"), None)
    assert target.env_name == "dev"


def test_resolve_target_several_without_default(load: Load) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_target(load(TWO_ENVS), None)
    assert caught.value.render() == (
        "shipit.yaml defines several environments (staging, prod) (pick one with -e/--env or set default_environment)"
    )


def test_resolve_target_unknown_environment(load: Load) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_target(load(TWO_ENVS), "prd")
    assert caught.value.render() == "environment 'prd' is not defined in shipit.yaml (did you mean 'prod'?)"
    with pytest.raises(UsageError) as caught:
        resolve_target(load(TWO_ENVS), "zzz")
    assert caught.value.render() == "environment 'zzz' is not defined in shipit.yaml (defined: staging, prod)"
