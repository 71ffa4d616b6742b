"""JSON Schema of shipit.yaml, published in the repository (schema/shipit.schema.json) for editor completion.

Generated from the models, then adjusted for editors: dict keys with a naming rule become `propertyNames`
(so a bad service name is flagged, not silently allowed), and environment overlays get typed "partial"
definitions (every key optional, no defaults) so completion works inside `environments.X.services.api`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from shipit.config.models import OVERLAY_SECTIONS, ShipitConfig

SCHEMA_ID = "https://shipit.dev/schema/shipit.schema.json"
SCHEMA_PATH = "schema/shipit.schema.json"
_OVERLAY_OF = {
    "services": "Service",
    "databases": "Database",
    "caches": "Cache",
    "registry": "Registry",
    "infra": "Infra",
    "build": "BuildSettings",
}


def _walk(node: Any, visit: Any) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def _property_names(node: dict[str, Any]) -> None:
    patterns = node.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in node:
        ((pattern, value),) = patterns.items()
        del node["patternProperties"]
        node["propertyNames"] = {"pattern": pattern}
        node["additionalProperties"] = value


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    _walk(node, lambda n: found.add(n["$ref"].rsplit("/", 1)[-1]) if "$ref" in n else None)
    return found


def _overlay_defs(defs: dict[str, Any]) -> dict[str, Any]:
    """`XOverlay` copies of X and everything it references: nothing required, no defaults."""
    todo, names = list(_OVERLAY_OF.values()), set()
    while todo:
        name = todo.pop()
        if name not in names:
            names.add(name)
            todo.extend(_refs(defs[name]))

    def adjust(node: dict[str, Any]) -> None:
        node.pop("required", None)
        node.pop("default", None)
        node.pop("minProperties", None)
        if "$ref" in node:
            node["$ref"] = node["$ref"] + "Overlay"

    overlays = {}
    for name in names:
        overlay = copy.deepcopy(defs[name])
        _walk(overlay, adjust)
        overlay["title"] = f"{overlay.get('title', name)} (environment overlay)"
        overlays[f"{name}Overlay"] = overlay
    return overlays


def json_schema() -> dict[str, Any]:
    schema = ShipitConfig.model_json_schema(mode="validation")
    _walk(schema, _property_names)
    defs = schema["$defs"]
    defs.update(_overlay_defs(defs))
    environment = defs["Environment"]["properties"]
    for section in OVERLAY_SECTIONS:
        target = {"$ref": f"#/$defs/{_OVERLAY_OF[section]}Overlay"}
        base = environment[section]
        base.pop("default", None)
        if section in ("services", "databases", "caches"):
            base["additionalProperties"] = target
        else:
            base.pop("additionalProperties", None)
            base.pop("type", None)
            base.update(target)
        base["description"] = f"Deep-merged over the top-level `{section}` in this environment; only what differs."
    schema["title"] = "shipit.yaml"
    schema["description"] = "shipit: from docker-compose on a laptop to Google Cloud, from one file."
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
