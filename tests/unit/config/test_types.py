"""One test per scalar rule in shipit.config.types, each asserting the exact rendered message."""

from __future__ import annotations

import pytest
from config_support import HEAD, Errors, Load

SERVICE_NAME_FIX = (
    "lowercase letters, digits and hyphens, starting with a letter, at most 49 characters, not ending with a hyphen"
)


@pytest.mark.parametrize(
    "name",
    ["Api", "1api", "api-", "api_v2", "a" * 50, "-api"],
)
def test_service_name_rejected(errors: Errors, name: str) -> None:
    assert errors(HEAD + f"services:\n  '{name}': {{}}\n") == [
        f"shipit.yaml:6:3: services.{name}: '{name}' is not a valid Cloud Run service name ({SERVICE_NAME_FIX})"
    ]


@pytest.mark.parametrize("name", ["a", "api", "api-v2", "a" * 49, "x1"])
def test_service_name_accepted(load: Load, name: str) -> None:
    assert list(load(HEAD + f"services:\n  {name}: {{}}\n").base.services) == [name]


@pytest.mark.parametrize("key", ["bad-key", "1KEY", "A.B", "A" * 256])
def test_secret_key_rejected(errors: Errors, key: str) -> None:
    assert errors(HEAD + f"services:\n  api:\n    secrets: ['{key}']\n") == [
        f"shipit.yaml:7:15: services.api.secrets[0]: '{key}' is not a valid secret key "
        "(letters, digits and underscores, not starting with a digit, e.g. STRIPE_KEY)"
    ]


def test_secret_key_accepted(load: Load) -> None:
    # With the default naming ({app}-{env}-{key}) a 255-character key would make too long a secret id.
    text = HEAD + "secrets: {naming: '{key}'}\nservices:\n  api:\n    secrets: [STRIPE_KEY, _x, " + "A" * 255 + "]\n"
    config = load(text).base
    assert config.services["api"].secrets == ("STRIPE_KEY", "_x", "A" * 255)


@pytest.mark.parametrize("var", ["1X", "A-B", "A B"])
def test_env_var_name_rejected(errors: Errors, var: str) -> None:
    assert errors(HEAD + f"services:\n  api:\n    env: {{'{var}': x}}\n") == [
        f"shipit.yaml:7:11: services.api.env.{var}: '{var}' is not a valid environment variable name "
        "(letters, digits and underscores, not starting with a digit)"
    ]


def test_local_env_var_name_rejected(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    local:\n      env: {'9X': x}\n") == [
        "shipit.yaml:8:13: services.api.local.env.9X: '9X' is not a valid environment variable name "
        "(letters, digits and underscores, not starting with a digit)"
    ]


def test_env_values_accept_numbers_and_booleans(load: Load) -> None:
    config = load(HEAD + "services:\n  api:\n    env: {A: 1, B: true, C: 1.5, D: off}\n").base
    assert dict(config.services["api"].env) == {"A": "1", "B": "true", "C": "1.5", "D": "false"}


@pytest.mark.parametrize("project", ["Acme-prod", "acme", "1acme-prod", "acme-prod-", "a" * 31, "acme_prod"])
def test_project_id_rejected(errors: Errors, project: str) -> None:
    text = f"version: 1\napp: acme\nenvironments:\n  prod: {{project: '{project}', region: us-central1}}\n"
    assert errors(text + "services:\n  api: {}\n") == [
        f"shipit.yaml:4:19: environments.prod.project: '{project}' is not a valid Google Cloud project id "
        "(6 to 30 lowercase letters, digits or hyphens, starting with a letter, not ending with a hyphen, "
        "without the word 'google')"
    ]


@pytest.mark.parametrize("region", ["uscentral1", "us-central", "US-CENTRAL1", "us_central1", "us-central123"])
def test_region_rejected(errors: Errors, region: str) -> None:
    text = f"version: 1\napp: acme\nenvironments:\n  prod: {{project: acme-prod, region: '{region}'}}\n"
    assert errors(text + "services:\n  api: {}\n") == [
        f"shipit.yaml:4:38: environments.prod.region: '{region}' is not a valid region "
        "(use e.g. us-central1, europe-west1)"
    ]


def test_app_and_environment_names(errors: Errors) -> None:
    text = "version: 1\napp: Acme\nenvironments:\n  Prod: {project: acme-prod, region: us-central1}\n"
    assert errors(text + "services:\n  api: {}\n") == [
        "shipit.yaml:2:6: app: 'Acme' is not a valid app name "
        "(lowercase letters, digits and hyphens, starting with a letter, at most 20 characters)",
        "shipit.yaml:4:3: environments.Prod: 'Prod' is not a valid environment name "
        "(lowercase letters, digits and hyphens, starting with a letter, at most 15 characters)",
    ]


def test_database_name_rejected(errors: Errors) -> None:
    assert errors(HEAD + "databases:\n  Main: {}\nservices:\n  api: {}\n") == [
        "shipit.yaml:6:3: databases.Main: 'Main' is not a valid name "
        "(lowercase letters, digits and hyphens, starting with a letter, at most 30 characters)"
    ]


@pytest.mark.parametrize("memory", ["512MB", "1 Gi", "lots", "512"])
def test_memory_format_rejected(errors: Errors, memory: str) -> None:
    assert errors(HEAD + f"services:\n  api:\n    cloud_run: {{memory: '{memory}'}}\n") == [
        f"shipit.yaml:7:25: services.api.cloud_run.memory: '{memory}' is not a valid memory size (use e.g. 512Mi, 1Gi)"
    ]


@pytest.mark.parametrize("memory", ["64Mi", "33Gi"])
def test_memory_out_of_range(errors: Errors, memory: str) -> None:
    assert errors(HEAD + f"services:\n  api:\n    cloud_run: {{memory: {memory}}}\n") == [
        f"shipit.yaml:7:25: services.api.cloud_run.memory: '{memory}' is outside what Cloud Run allows (128Mi to 32Gi)"
    ]


@pytest.mark.parametrize("memory", ["128Mi", "512Mi", "1Gi", "1G", "2048Mi"])
def test_memory_accepted(load: Load, memory: str) -> None:
    load(HEAD + f"services:\n  api:\n    cloud_run: {{memory: {memory}, cpu: 1}}\n")


@pytest.mark.parametrize("cpu", ["3", "0.05", "1.5", "16", "lots", "-1"])
def test_cpu_rejected(errors: Errors, cpu: str) -> None:
    assert errors(HEAD + f"services:\n  api:\n    cloud_run: {{cpu: '{cpu}'}}\n") == [
        f"shipit.yaml:7:22: services.api.cloud_run.cpu: '{cpu}' is not a CPU value Cloud Run accepts "
        "(use 1, 2, 4, 6, 8, or 0.08 to <1)"
    ]


@pytest.mark.parametrize(("cpu", "stored"), [("1", "1"), ("2", "2"), ("'0.5'", "0.5"), ("500m", "500m"), ("8", "8")])
def test_cpu_accepted(load: Load, cpu: str, stored: str) -> None:
    extra = ", concurrency: 1" if stored in ("0.5", "500m") else ", memory: 4Gi" if stored == "8" else ""
    config = load(HEAD + f"services:\n  api:\n    cloud_run: {{cpu: {cpu}{extra}}}\n").base
    assert config.services["api"].cloud_run.cpu == stored


@pytest.mark.parametrize("timeout", ["5x", "1.5s", "soon", "true"])
def test_duration_rejected(errors: Errors, timeout: str) -> None:
    assert errors(HEAD + f"services:\n  api:\n    cloud_run: {{timeout: {timeout}}}\n") == [
        f"shipit.yaml:7:26: services.api.cloud_run.timeout: '{timeout}' is not a duration (use e.g. 300s, 5m)"
    ]


@pytest.mark.parametrize(("timeout", "seconds"), [("300", 300), ("90s", 90), ("5m", 300), ("1h", 3600)])
def test_duration_accepted(load: Load, timeout: str, seconds: int) -> None:
    assert (
        load(HEAD + f"services:\n  api:\n    cloud_run: {{timeout: {timeout}}}\n")
        .base.services["api"]
        .cloud_run.timeout
        == seconds
    )


def test_duration_bounds(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    cloud_run: {timeout: 2h}\n") == [
        "shipit.yaml:7:26: services.api.cloud_run.timeout: 7200 must be <= 3600"
    ]


@pytest.mark.parametrize("key", ["Team", "1team", "team.name", "t" * 64])
def test_label_key_rejected(errors: Errors, key: str) -> None:
    assert errors(HEAD + f"services:\n  api:\n    cloud_run: {{labels: {{'{key}': x}}}}\n") == [
        f"shipit.yaml:7:26: services.api.cloud_run.labels.{key}: '{key}' is not a valid label key "
        "(lowercase letters, digits, _ and -, starting with a letter, at most 63 characters)"
    ]


def test_label_value_rejected(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    cloud_run: {labels: {team: Core}}\n") == [
        "shipit.yaml:7:32: services.api.cloud_run.labels.team: 'Core' is not a valid label value "
        "(lowercase letters, digits, _ and -, at most 63)"
    ]


def test_pubsub_name_rejected(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: {}\npubsub:\n  topics: {goog-x: {}, ab: {}}\n") == [
        "shipit.yaml:8:12: pubsub.topics.goog-x: 'goog-x' is not a valid Pub/Sub name "
        "(3 to 255 characters: letters, digits, - _ . ~ + %, starting with a letter, not 'goog')",
        "shipit.yaml:8:24: pubsub.topics.ab: 'ab' is not a valid Pub/Sub name "
        "(3 to 255 characters: letters, digits, - _ . ~ + %, starting with a letter, not 'goog')",
    ]


def test_command_strings_are_split_like_a_shell(load: Load) -> None:
    config = load(HEAD + "services:\n  api:\n    local: {command: \"uvicorn app:app --port '8 0'\"}\n").base
    assert config.services["api"].local.command == ("uvicorn", "app:app", "--port", "8 0")
