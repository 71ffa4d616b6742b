"""The JSON Schema published at schema/shipit.schema.json: in sync with the models, and useful to editors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from shipit.config.schema import SCHEMA_PATH, json_schema, json_schema_text

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "shipit.yaml.example"


def test_published_schema_is_in_sync() -> None:
    published = (ROOT / SCHEMA_PATH).read_text()
    assert published == json_schema_text(), (
        f"{SCHEMA_PATH} is out of date with the models; regenerate it with `shipit schema > {SCHEMA_PATH}`"
    )


def test_example_points_editors_at_the_schema() -> None:
    assert EXAMPLE.read_text().splitlines()[0] == f"# yaml-language-server: $schema=./{SCHEMA_PATH}"


def test_schema_has_a_title_and_is_strict() -> None:
    schema = json_schema()
    assert schema["title"] == "shipit.yaml"
    assert schema["additionalProperties"] is False
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_environment_overlays_are_typed() -> None:
    schema = json_schema()
    env = schema["$defs"]["Environment"]["properties"]
    assert env["services"]["additionalProperties"] == {"$ref": "#/$defs/ServiceOverlay"}
    assert env["databases"]["additionalProperties"] == {"$ref": "#/$defs/DatabaseOverlay"}
    assert env["registry"]["$ref"] == "#/$defs/RegistryOverlay"
    assert env["infra"]["$ref"] == "#/$defs/InfraOverlay"
    overlay = schema["$defs"]["DatabaseOverlay"]
    # Overlays set only what differs: nothing is required, no defaults are suggested.
    assert "required" not in json.dumps(schema["$defs"]["MigrateOverlay"])
    assert "default" not in overlay["properties"]["tier"]
    assert overlay["properties"]["migrate"]["anyOf"][0] == {"$ref": "#/$defs/MigrateOverlay"}


def _validator() -> Any:
    # Optional: the `jsonschema` package (test extra). Only these tests skip without it.
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(json_schema())
    return jsonschema.Draft202012Validator(json_schema())


def test_schema_is_a_valid_json_schema() -> None:
    assert _validator() is not None


@pytest.mark.parametrize(
    "path", [EXAMPLE, *sorted((ROOT / "examples").glob("*/shipit.yaml"))], ids=lambda p: str(p.relative_to(ROOT))
)
def test_examples_validate_against_the_schema(path: Path) -> None:
    errors = list(_validator().iter_errors(yaml.safe_load(path.read_text())))
    assert [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors] == []


@pytest.mark.parametrize(
    ("patch", "bad_path"),
    [
        ({"services": {"Api": {}}}, "services"),
        ({"services": {"api": {"cloud_run": {"memory": "512MB"}}}}, "services.api.cloud_run.memory"),
        ({"services": {"api": {"cloud_run": {"memroy": "1Gi"}}}}, "services.api.cloud_run"),
        (
            {"environments": {"prod": {"project": "p-123456", "region": "us-east1", "services": {"api": {"x": 1}}}}},
            "environments.prod.services.api",
        ),
        ({"services": {"api": {"secrets": ["bad-key"]}}}, "services.api.secrets.0"),
    ],
)
def test_schema_flags_what_the_loader_rejects(patch: dict[str, Any], bad_path: str) -> None:
    document = {"version": 1, "app": "acme", "environments": {"dev": {"project": "acme-dev", "region": "us-east1"}}}
    document.update(patch)
    document.setdefault("services", {"api": {}})
    paths = [".".join(map(str, e.absolute_path)) for e in _validator().iter_errors(document)]
    assert bad_path in paths


def test_schema_accepts_yaml_friendly_forms() -> None:
    document = yaml.safe_load(
        "version: 1\napp: acme\nenvironments:\n  dev: {project: acme-dev, region: us-east1}\n"
        "services:\n  api:\n    env: {PORT: 8080, DEBUG: true}\n"
        "    cloud_run: {cpu: 1, timeout: 5m, command: gunicorn app:app}\n"
        "  web:\n    cloud_run: {cpu: '0.5', concurrency: 1, timeout: 30, args: [--port, '80']}\n"
    )
    assert list(_validator().iter_errors(document)) == []
