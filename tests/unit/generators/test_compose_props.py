"""Property: any value from shipit.yaml is either refused by validation or lands in the generated compose
file unchanged once compose has read it (YAML parsed, `$$` read back as `$`): never a second key, a second
service, an interpolation, or a line outside its comment."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from generator_props import CONFIG_PROPERTY, hostile_text
from hypothesis import given

from shipit.config import load_config, resolve_target
from shipit.errors import ConfigError
from shipit.local.compose import prepare


def _compose_value(text: str) -> str:
    """What compose makes of a string in the file: `$$` is a literal `$` (no `$` is left unescaped)."""
    assert "$" not in text.replace("$$", ""), text
    return text.replace("$$", "$")


def _config(value: str, env_file: str) -> dict[str, Any]:
    return {
        "version": 1,
        "app": "acme",
        "environments": {"staging": {"project": "acme-staging", "region": "us-central1"}},
        "secrets": {"env_file": env_file},
        "services": {
            "api": {
                "build": {"context": ".", "dockerfile": value, "target": value, "args": {"ARG1": value}},
                "env": {"PLAIN": value},
                "local": {"command": ["run", value], "volumes": [f"cache:/{value}"]},
            }
        },
    }


@CONFIG_PROPERTY
# A NUL byte in a path is the path checks' business (refused there); here it would only crash pathlib.
@given(hostile_text, hostile_text.map(lambda s: ".env" + s.replace("\x00", "")))
def test_config_values_are_refused_or_read_back_unchanged_by_compose(value: str, env_file: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "shipit.yaml").write_text(yaml.safe_dump(_config(value, env_file)))
        try:
            target = resolve_target(load_config(root / "shipit.yaml", "shipit.yaml"), "staging")
            text = prepare(target, base_dir=root / ".shipit").text
        except ConfigError as exc:
            assert all("\n" not in issue.render() for issue in exc.issues)
            return
    for line in text.splitlines():
        assert not line or line.startswith(("#", "services:", "volumes:", " ")), line
    document = yaml.safe_load(text)
    assert set(document) == {"services", "volumes"}
    assert list(document["services"]) == ["api"]
    api = document["services"]["api"]
    if value:  # an empty dockerfile or target means "the default": written as nothing
        assert _compose_value(api["build"]["dockerfile"]) == value
        assert _compose_value(api["build"]["target"]) == value
    assert _compose_value(api["build"]["args"]["ARG1"]) == value
    assert _compose_value(api["environment"]["PLAIN"]) == value
    assert [_compose_value(arg) for arg in api["command"]] == ["run", value]
    assert [_compose_value(v) for v in api["volumes"]] == [f"cache:/{value}"]
