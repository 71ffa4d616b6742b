"""The YAML loader's limits and the checks of Google's limits, one exact message each (the hostile corpus in
tests/hostile runs hundreds more through the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_support import HEAD, Errors, Load

from shipit.config.yamlmarks import MAX_ALIAS_EXPANSION, MAX_DEPTH
from shipit.errors import MAX_SHOWN_ISSUES, ConfigError


def test_alias_bomb_stops_at_the_budget(errors: Errors) -> None:
    lines = ["a0: &a0 [lol, lol]"] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    assert errors(HEAD + "\n".join(lines) + "\n") == [
        f"shipit.yaml:5:15: aliases expand to more than {MAX_ALIAS_EXPANSION} values (use fewer nested aliases (*name))"
    ]


def test_nesting_limit(errors: Errors) -> None:
    [message] = errors(HEAD + "x: " + "[" * 500 + "]" * 500 + "\n")
    assert message.startswith(f"shipit.yaml:5:{3 + MAX_DEPTH}: invalid YAML: nested more than {MAX_DEPTH} levels")


@pytest.mark.parametrize("extra", ["x: &r [*r]\n", "x: &r {a: *r}\n", "x: &r\n  <<: *r\n"])
def test_recursive_aliases_are_located(errors: Errors, extra: str) -> None:
    assert errors(HEAD + extra) == [
        "shipit.yaml:5:4: an alias refers to a node that contains it (a recursive alias) (remove the cycle)"
    ]


def test_merge_key_needs_a_mapping(errors: Errors) -> None:
    assert errors(HEAD + "b: &b 3\nx:\n  <<: *b\n") == [
        "shipit.yaml:5:4: a merge key (<<) needs a mapping or a list of mappings (merge an anchored mapping: <<: *name)"
    ]


def test_merge_keys_still_work(load: Load) -> None:
    text = HEAD + "x-defaults: &d {port: 9000, env: {A: '1'}}\nservices:\n  api:\n    <<: *d\n    port: 8000\n"
    with pytest.raises(ConfigError) as caught:  # x-defaults is an unknown key, but the merge itself worked
        load(text)
    assert [i.path for i in caught.value.issues] == ["x-defaults"]
    config = load(HEAD + "services:\n  api: &d {port: 9000}\n  web:\n    <<: *d\n    port: 8000\n").base
    assert (config.services["api"].port, config.services["web"].port) == (9000, 8000)


@pytest.mark.parametrize(
    ("tag", "shown"), [("!!python/object:os.system", "!!python/object:os.system"), ("!custom", "!custom")]
)
def test_tags_beyond_the_core_schema(errors: Errors, tag: str, shown: str) -> None:
    assert errors(HEAD + f"x: {tag} ls\n") == [
        f"shipit.yaml:5:4: the YAML tag {shown} is not allowed (shipit.yaml holds plain strings, numbers, booleans, "
        "null, lists and mappings; remove the tag)"
    ]


def test_a_nul_byte_is_reported_on_its_line(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: {port: 80\x0080}\n") == [
        "shipit.yaml:6:17: a NUL byte cannot appear in YAML (save the file as plain UTF-8 text)"
    ]


def test_output_is_capped(errors: Errors, tmp_path: Path) -> None:
    text = HEAD + "services:\n  api: {}\n" + "".join(f"unknown_{i}: 1\n" for i in range(3000))
    with pytest.raises(ConfigError) as caught:
        from shipit.config import load_config

        (tmp_path / "shipit.yaml").write_text(text)
        load_config(tmp_path / "shipit.yaml", "shipit.yaml")
    lines = caught.value.rendered_lines()
    assert len(caught.value.issues) == 3000
    assert len(lines) == MAX_SHOWN_ISSUES + 1
    assert lines[-1] == f"... and {3000 - MAX_SHOWN_ISSUES} more problems"


def test_booleans_are_not_integers(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: {port: true}\n") == [
        "shipit.yaml:6:15: services.api.port: expected an integer, got true"
    ]


@pytest.mark.parametrize(
    ("infra", "message"),
    [
        ("{subnet_cidr: 10.0.0.0/99}", "'10.0.0.0/99' is not a valid IPv4 CIDR block"),
        ("{subnet_cidr: 999.0.0.0/20}", "'999.0.0.0/20' is not a valid IPv4 CIDR block"),
        ("{subnet_cidr: 10.8.0.0/24}", "10.8.0.0/28 overlaps subnet_cidr 10.8.0.0/24"),
    ],
)
def test_network_ranges(errors: Errors, infra: str, message: str) -> None:
    [issue] = errors(HEAD + f"services:\n  api: {{}}\ninfra: {infra}\n")
    assert message in issue and issue.startswith("shipit.yaml:7:")


@pytest.mark.parametrize("var", ["PORT", "K_SERVICE", "CLOUD_RUN_TASK_INDEX"])
def test_reserved_env_names(errors: Errors, var: str) -> None:
    assert errors(HEAD + f"services:\n  api:\n    env: {{{var}: x}}\n") == [
        f"shipit.yaml:7:{13 + len(var)}: services.api.env.{var}: {var} is set by Cloud Run itself and cannot be set "
        "(rename the variable)"
    ]


def test_env_value_size(errors: Errors) -> None:
    [issue] = errors(HEAD + "services:\n  api:\n    env: {BIG: " + "x" * 40_000 + "}\n")
    assert "the value is 40000 bytes; Cloud Run allows at most 32768 per variable" in issue
    assert len(issue) < 500  # the value itself is not printed


def test_env_reference_to_a_declared_secret(errors: Errors) -> None:
    [issue] = errors(HEAD + "services:\n  api:\n    secrets: [TOKEN]\n    env: {COPY: '${env.TOKEN}'}\n")
    assert "${env.TOKEN} names the declared secret TOKEN" in issue


@pytest.mark.parametrize("mount", ["../../etc/evil", "/", "relative/key", "/a/../b", "/key.json"])
def test_secret_file_mount_paths(errors: Errors, mount: str) -> None:
    [issue] = errors(HEAD + f"services:\n  api:\n    secrets: [K]\n    secret_files: {{'{mount}': K}}\n")
    assert issue.startswith("shipit.yaml:8:") and "mount path" in issue


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("secrets.env_file", "secrets: {env_file: /etc/passwd}\nservices:\n  api: {}\n"),
        ("secrets.env_file", "secrets: {env_file: ../../x.env}\nservices:\n  api: {}\n"),
        ("services.api.build.context", "services:\n  api: {build: {context: /}}\n"),
        ("services.api.build.dockerfile", "services:\n  api: {build: {dockerfile: /etc/passwd}}\n"),
        ("infra.dir", "services:\n  api: {}\ninfra: {dir: /tmp/elsewhere}\n"),
    ],
)
def test_paths_stay_inside_the_project(errors: Errors, where: str, text: str) -> None:
    [issue] = errors(HEAD + text)
    assert f": {where}: " in issue and "outside the project directory" in issue
    assert issue.endswith("(set allow_outside_project: true next to it if this is intended)")


def test_paths_outside_the_project_with_an_explicit_opt_out(load: Load) -> None:
    config = load(
        HEAD
        + "secrets: {env_file: ../shared.env, allow_outside_project: true}\n"
        + "services:\n  api: {build: {context: ../lib, allow_outside_project: true}}\n"
        + "infra: {dir: ../infra, allow_outside_project: true}\n"
    ).base
    assert config.secrets.env_file == "../shared.env" and config.infra.dir == "../infra"


def test_a_symlink_out_of_the_project_is_refused(errors: Errors, tmp_path: Path) -> None:
    (tmp_path / "link.env").symlink_to("/etc/passwd")
    [issue] = errors(HEAD + "secrets: {env_file: link.env}\nservices:\n  api: {}\n")
    assert "'link.env' resolves to /etc/passwd, outside the project directory" in issue
