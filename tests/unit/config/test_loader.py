"""The loader: YAML-level problems, unknown and missing keys, each with file:line:col and a hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_support import HEAD, Errors, Load

from shipit.config import find_config, load_config
from shipit.config.yamlmarks import MAX_CONFIG_BYTES
from shipit.errors import ConfigError


def test_duplicate_key(errors: Errors) -> None:
    text = HEAD + "  prod: {project: acme-other, region: us-central1}\nservices:\n  api: {}\n"
    assert errors(text) == [
        "shipit.yaml:5:3: duplicate key 'prod' in environments (it is already defined on line 4; keep one)"
    ]


def test_duplicate_top_level_key(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: {}\napp: other\n") == [
        "shipit.yaml:7:1: duplicate key 'app' in the top level (it is already defined on line 2; keep one)"
    ]


def test_duplicate_key_in_flow_mapping(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: {port: 1, port: 2}\n") == [
        "shipit.yaml:6:18: duplicate key 'port' in services.api (it is already defined on line 6; keep one)"
    ]


def test_tab_indentation(errors: Errors) -> None:
    assert errors("version: 1\napp: acme\nservices:\n\tapi: {}\n") == [
        "shipit.yaml:4:1: invalid YAML: a tab character cannot be used for indentation (indent YAML with spaces)"
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(errors: Errors, text: str) -> None:
    assert errors(text) == ["shipit.yaml:1:1: the file is empty (start from shipit.yaml.example or run `shipit init`)"]


@pytest.mark.parametrize(
    ("text", "got"), [("- version: 1\n", "a list"), ("just text\n", "'just text'"), ("42\n", "42")]
)
def test_top_level_not_a_mapping(errors: Errors, text: str, got: str) -> None:
    assert errors(text) == [
        f"shipit.yaml:1:1: expected a mapping at the top level, got {got} (start with `version: 1` and `app: NAME`)"
    ]


def test_non_utf8(errors: Errors) -> None:
    assert errors(b"version: 1\napp: acme\n# caf\xe9\n") == [
        "shipit.yaml:3:6: invalid UTF-8 byte 0xe9 (save the file as UTF-8)"
    ]


def test_huge_file(errors: Errors) -> None:
    text = HEAD + "services:\n  api: {}\n" + ("#" * 99 + "\n") * (MAX_CONFIG_BYTES // 100 + 1)
    size = len(text.encode())
    assert errors(text) == [
        f"shipit.yaml: file is {size} bytes, larger than the {MAX_CONFIG_BYTES} byte limit "
        "(a shipit.yaml this large is almost certainly not one; check the -f path)"
    ]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml", "nope.yaml")
    assert caught.value.render() == "nope.yaml: file not found (run `shipit init` or pass -f FILE)"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, "somedir")
    assert caught.value.render() == "somedir: is a directory, not a file (pass -f path/to/shipit.yaml)"


def test_syntax_error_unclosed_flow_mapping(errors: Errors) -> None:
    assert errors("version: 1\napp: acme\nenvironments:\n  prod: {project: acme-prod\nservices: {}\n") == [
        "shipit.yaml:5:9: invalid YAML: expected ',' or '}', but got ':', "
        "while parsing a flow mapping that starts at line 4, column 9"
    ]


def test_syntax_error_unclosed_quote_names_where_it_opened(errors: Errors) -> None:
    assert errors(HEAD + 'services:\n  api:\n    env: {A: "oops}\n') == [
        "shipit.yaml:8:1: invalid YAML: found unexpected end of stream, "
        "while scanning a quoted scalar that starts at line 7, column 14"
    ]


def test_syntax_error_colon_in_value(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    env:\n      A: x: y\n") == [
        "shipit.yaml:8:11: invalid YAML: mapping values are not allowed here (a value containing ': ' must be quoted)"
    ]


def test_syntax_error_bad_indentation(errors: Errors) -> None:
    assert errors("version: 1\napp: acme\n  extra: 1\n") == [
        "shipit.yaml:3:8: invalid YAML: mapping values are not allowed here (a value containing ': ' must be quoted)"
    ]


def test_undefined_alias(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: *base\n") == ["shipit.yaml:6:8: invalid YAML: found undefined alias 'base'"]


def test_merge_keys_work(load: Load) -> None:
    text = HEAD + "x-common: &common {port: 9000}\n"
    text = text.replace("x-common", "services:\n  api:\n    <<").replace("&common {port: 9000}", "{port: 9000}")
    assert load(text).base.services["api"].port == 9000


def test_non_string_key(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: {}\n[a]: x\n") == [
        "shipit.yaml:7:1: a key must be a string, not a list (quote it)"
    ]


def test_unknown_key_did_you_mean(errors: Errors) -> None:
    # One message: the misspelling explains why 'services' is missing.
    assert errors(HEAD + "servces:\n  api: {}\n") == [
        "shipit.yaml:5:1: servces: unknown key 'servces' (did you mean 'services'?)",
    ]


def test_missing_key_reported_when_the_unknown_key_is_unrelated(errors: Errors) -> None:
    assert errors(HEAD + "xyz: 1\n") == [
        "shipit.yaml:1:1: services: missing required key 'services'",
        "shipit.yaml:5:1: xyz: unknown key 'xyz' (allowed: version, app, default_environment, environments, "
        "registry, secrets, databases, caches, services, pubsub, jobs, infra, build, test, ci)",
    ]


def test_unknown_nested_key_did_you_mean(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    cloud_run: {memroy: 1Gi}\n    buld: {}\n") == [
        "shipit.yaml:7:17: services.api.cloud_run.memroy: unknown key 'memroy' (did you mean 'memory'?)",
        "shipit.yaml:8:5: services.api.buld: unknown key 'buld' (did you mean 'build'?)",
    ]


def test_unknown_key_lists_allowed_keys(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    health: {zzz: 1}\n") == [
        "shipit.yaml:7:14: services.api.health.zzz: unknown key 'zzz' (allowed: path, timeout)"
    ]


def test_missing_required_key(errors: Errors) -> None:
    assert errors("version: 1\napp: acme\nenvironments:\n  prod: {region: us-central1}\nservices:\n  api: {}\n") == [
        "shipit.yaml:4:3: environments.prod.project: missing required key 'project'"
    ]


def test_missing_nested_required_key(errors: Errors) -> None:
    assert errors(
        HEAD + "databases:\n  main:\n    migrate: {timeout: 60s}\nservices:\n  api: {databases: [main]}\n"
    ) == ["shipit.yaml:7:5: databases.main.migrate.command: missing required key 'command'"]


def test_wrong_types(errors: Errors) -> None:
    text = HEAD + (
        "services:\n  api:\n    port: eighty\n    secrets: STRIPE\n    env: {A: [1]}\n"
        "    cloud_run: {allow_unauthenticated: maybe, max_instances: 1.5, ingress: public}\n"
    )
    assert errors(text) == [
        "shipit.yaml:7:11: services.api.port: expected an integer, got 'eighty'",
        "shipit.yaml:8:14: services.api.secrets: expected a list, got 'STRIPE'",
        "shipit.yaml:9:14: services.api.env.A: expected a string, got a list",
        "shipit.yaml:10:40: services.api.cloud_run.allow_unauthenticated: expected true or false, got 'maybe'",
        "shipit.yaml:10:62: services.api.cloud_run.max_instances: expected a whole number, got 1.5",
        "shipit.yaml:10:76: services.api.cloud_run.ingress: 'public' is not allowed "
        "(use one of: 'all', 'internal' or 'internal-and-cloud-load-balancing')",
    ]


def test_null_service(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n") == [
        "shipit.yaml:6:7: services.api: expected a mapping, got nothing (null)"
    ]


def test_empty_sections(errors: Errors) -> None:
    assert errors("version: 1\napp: acme\nenvironments: {}\nservices: {}\n") == [
        "shipit.yaml:3:15: environments: needs at least 1 entry",
        "shipit.yaml:4:11: services: needs at least 1 entry",
    ]


def test_pattern_mismatch(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    health: {path: healthz}\n") == [
        "shipit.yaml:7:20: services.api.health.path: 'healthz' is not valid (it must match ^/)"
    ]


def test_version_literal(errors: Errors) -> None:
    assert errors(HEAD.replace("version: 1", "version: 2") + "services:\n  api: {}\n") == [
        "shipit.yaml:1:10: version: 2 is not allowed (use one of: 1)"
    ]


def test_issues_are_sorted_by_position(errors: Errors) -> None:
    text = HEAD + "services:\n  api:\n    port: 0\n  web:\n    port: 70000\n"
    assert errors(text) == [
        "shipit.yaml:7:11: services.api.port: 0 must be >= 1",
        "shipit.yaml:9:11: services.web.port: 70000 must be <= 65535",
    ]


def test_display_name_is_used_in_messages(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("version: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "x.yaml", "deploy/x.yaml")
    assert caught.value.issues[0].location.file == "deploy/x.yaml"


def test_example_is_valid() -> None:
    root = Path(__file__).resolve().parents[3]
    loaded = load_config(root / "shipit.yaml.example")
    assert loaded.environment_names() == ["staging", "prod"]
    assert loaded.merged["prod"].services["api"].cloud_run.min_instances == 1


def test_find_config_searches_upward(tmp_path: Path) -> None:
    (tmp_path / "shipit.yaml").write_text(HEAD)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == tmp_path / "shipit.yaml"
    assert find_config(tmp_path / "a") == tmp_path / "shipit.yaml"


def test_find_config_prefers_the_nearest(tmp_path: Path) -> None:
    (tmp_path / "shipit.yaml").write_text(HEAD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "shipit.yaml").write_text(HEAD)
    assert find_config(tmp_path / "sub") == tmp_path / "sub" / "shipit.yaml"
