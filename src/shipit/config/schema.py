"""JSON Schema of shipit.yaml, published in the repository for editor completion."""

from __future__ import annotations

import json
from typing import Any

from shipit.config.models import ShipitConfig

SCHEMA_ID = "https://shipit.dev/schema/shipit.schema.json"


def json_schema() -> dict[str, Any]:
    schema = ShipitConfig.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
