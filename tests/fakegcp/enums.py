"""Enum numbers. Discovery documents list enum names but not their proto numbers, and the REST
transport of the google-cloud-* clients sends enums as numbers (`$alt=json;enum-encoding=int`).
The numbers come from the proto descriptors the client libraries ship."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

_MODULES = (
    "google.cloud.run_v2",
    "google.cloud.secretmanager_v1",
    "google.cloud.artifactregistry_v1",
    "google.api.launch_stage_pb2",
    "google.iam.v1.policy_pb2",
)


def _collect_files() -> list[Any]:
    files: dict[str, Any] = {}

    def add(file: Any) -> None:
        if file.name in files:
            return
        files[file.name] = file
        for dep in file.dependencies:
            add(dep)

    for module_name in _MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # pragma: no cover - the client libraries are project dependencies
            continue
        if hasattr(module, "DESCRIPTOR"):
            add(module.DESCRIPTOR)
        for attr in dir(module):
            obj = getattr(module, attr)
            pb = getattr(obj, "pb", None)
            if callable(pb) and isinstance(obj, type):
                try:
                    add(pb().DESCRIPTOR.file)
                except (TypeError, AttributeError):
                    continue
    return list(files.values())


@cache
def _all_enums() -> list[dict[int, str]]:
    out: list[dict[int, str]] = []

    def walk_message(desc: Any) -> None:
        for enum in desc.enum_types:
            out.append({v.number: v.name for v in enum.values})
        for nested in desc.nested_types:
            walk_message(nested)

    for file in _collect_files():
        for enum in file.enum_types_by_name.values():
            out.append({v.number: v.name for v in enum.values})
        for message in file.message_types_by_name.values():
            walk_message(message)
    return out


@cache
def numbers_for(names: tuple[str, ...]) -> dict[int, str]:
    """Number -> name for the proto enum that a discovery `enum` list describes."""
    wanted = set(names)
    best: dict[int, str] = {}
    best_score = (0, 0)
    for enum in _all_enums():
        values = set(enum.values())
        common = len(values & wanted)
        score = (common, -len(values - wanted))
        if common and score > best_score:
            best, best_score = enum, score
    if best_score[0] == 0:
        return dict(enumerate(names))
    return best
