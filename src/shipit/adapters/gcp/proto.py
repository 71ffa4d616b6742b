"""proto-plus messages <-> REST JSON dicts: the shape the steps compare and the API documents."""

from __future__ import annotations

import importlib
from typing import Any

Json = dict[str, Any]


def json_format() -> Any:
    # protobuf ships no type stubs; keep it Any at this one spot.
    return importlib.import_module("google.protobuf.json_format")


def to_dict(message: Any) -> Json:
    pb = type(message).pb(message) if hasattr(type(message), "pb") else message
    return dict(json_format().MessageToDict(pb))
