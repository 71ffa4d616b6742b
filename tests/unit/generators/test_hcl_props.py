"""Property: any string the Terraform generator writes reads back unchanged through python-hcl2 (never a
template, never a second attribute), and any config value is either refused by validation or lands in the
generated Terraform exactly as given."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from generator_props import CONFIG_PROPERTY, PROPERTY, hostile_text
from hcl2.utils import SerializationOptions
from hcl_unescape import unquote
from hypothesis import given
from hypothesis import strategies as st

from shipit.config import load_config, resolve_target
from shipit.errors import ConfigError
from shipit.render.hcl import Attr, Block, render, string
from shipit.render.terraform import render_infra

# Quotes kept: the test reads the escapes back itself (hcl_unescape), independently of the emitter.
_PARSE = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=False)


def _loads(text: str) -> Any:
    return hcl2.loads(text, serialization_options=_PARSE)


# Object keys from shipit.yaml are validated names; python-hcl2 cannot read an escaped template (`$${`) in a
# quoted object key (Terraform can), so keys here avoid braces.
_KEYS = hostile_text.map(lambda s: s.replace("{", "(").replace("}", ")"))


@PROPERTY
@given(hostile_text, _KEYS)
def test_any_string_round_trips_through_python_hcl2(value: str, key: str) -> None:
    text = render([Block("locals", (), (Attr("v", value), Attr("m", {key or "k": value}), Attr("l", [value])))])
    parsed = _loads(text)
    [block] = parsed["locals"]
    assert set(block) == {"v", "m", "l"}
    assert unquote(block["v"]) == value
    assert [unquote(v) for v in block["l"]] == [value]
    [(parsed_key, parsed_value)] = [(k, v) for k, v in block["m"].items() if not k.startswith("__")]
    assert unquote(parsed_value) == value
    assert (unquote(parsed_key) if parsed_key.startswith('"') else parsed_key) == (key or "k")


@pytest.mark.parametrize(
    "value", ["$${", "a$$${b}%%{", "${var.x}", "%{ if true }x%{ endif }", "\\u0024{", "\x00\u2028"]
)
def test_template_and_escape_edge_cases(value: str) -> None:
    assert unquote(_loads(f"x = {string(value)}\n")["x"]) == value


def _load(document: dict[str, Any]) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shipit.yaml"
        path.write_text(yaml.safe_dump(document))
        return resolve_target(load_config(path, "shipit.yaml"), "staging")


def _config(bucket: str, push_path: str, naming: str) -> dict[str, Any]:
    return {
        "version": 1,
        "app": "acme",
        "environments": {"staging": {"project": "acme-staging", "region": "us-central1"}},
        "infra": {"bucket": bucket},
        "secrets": {"naming": naming},
        "pubsub": {
            "topics": {"jobs": {}},
            "subscriptions": {"jobs-worker": {"topic": "jobs", "push": {"service": "api", "path": push_path}}},
        },
        "services": {"api": {"secrets": ["STRIPE_KEY"]}},
    }


def _strip(value: Any) -> Any:
    if isinstance(value, str) and value.startswith('"'):
        return unquote(value)
    if isinstance(value, dict):
        return {_strip(k): _strip(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


@CONFIG_PROPERTY
@given(
    st.one_of(hostile_text, st.just("acme-tfstate"), st.just("acme.state.example.com")),
    st.one_of(hostile_text.map(lambda s: "/" + s), st.just("/pubsub/push")),
    st.one_of(hostile_text, st.just("{app}-{env}-{key}"), hostile_text.map(lambda s: "{app}-{env}-{key}" + s)),
)
def test_config_values_are_refused_or_land_unchanged_in_terraform(bucket: str, push_path: str, naming: str) -> None:
    try:
        target = _load(_config(bucket, push_path, naming))
    except ConfigError as exc:
        assert all("\n" not in issue.render() for issue in exc.issues)
        return
    files = render_infra([target])
    main = _strip(_loads(files["environments/staging/main.tf"]))
    backend = main["terraform"][0]["backend"][0]["gcs"]
    assert backend["bucket"] == bucket
    module = main["module"][0]["app"]
    assert module["pubsub"]["subscriptions"]["jobs-worker"]["push_path"] == push_path
    assert module["secrets"] == {"STRIPE_KEY": target.secret_id("STRIPE_KEY")}
    for path, text in files.items():
        if path.endswith(".tf"):
            _loads(text)  # every file still parses
