"""Load shipit.yaml: YAML with marks -> typed models, every error at once with file:line:col."""

from __future__ import annotations

import copy
import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from shipit.config.checks import Problem, check, did_you_mean
from shipit.config.models import OVERLAY_SECTIONS, ShipitConfig
from shipit.config.yamlmarks import Marks, Path_, format_path, load_yaml, read_text
from shipit.errors import ConfigError, ConfigIssue, Location

CONFIG_NAME = "shipit.yaml"


def find_config(start: Path) -> Path | None:
    """Search shipit.yaml upward from ``start``, like git finds .git."""
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _field_annotation(model: type[BaseModel], name: str) -> Any:
    field = model.model_fields.get(name)
    if field is None:
        for candidate in model.model_fields.values():
            if candidate.alias == name:
                return candidate.annotation
        return None
    return field.annotation


def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [u for a in typing.get_args(annotation) for u in _unwrap(a)]
    return [annotation]


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc`` (to list its allowed keys)."""
    current: list[Any] = [root]
    for part in loc:
        nxt: list[Any] = []
        for candidate in current:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                if isinstance(part, str):
                    annotation = _field_annotation(candidate, part)
                    if annotation is not None:
                        nxt.extend(_unwrap(annotation))
            else:
                origin = typing.get_origin(candidate)
                args = typing.get_args(candidate)
                if origin in (dict, Mapping) and len(args) == 2:
                    nxt.extend(_unwrap(args[1]))
                elif origin in (tuple, list) and args:
                    nxt.extend(_unwrap(args[0]))
        current = nxt
    for candidate in current:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


_TYPE_WORDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
    "float_type": "a number",
    "float_parsing": "a number",
}


# Past this many schema errors, unknown keys get no "did you mean" (only the first few are shown anyway).
_SUGGESTION_LIMIT = 200


def _message(error: Mapping[str, Any], root: type[BaseModel], *, suggest: bool = True) -> tuple[str, str | None]:
    kind = error["type"]
    loc = tuple(error["loc"])
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        options = list(parent.model_fields) if parent else []
        suggestion = did_you_mean(str(loc[-1]), options) if suggest else None
        hint = suggestion or (f"allowed: {', '.join(options)}" if options else None)
        return f"unknown key '{loc[-1]}'", hint
    if kind == "missing":
        return f"missing required key '{loc[-1]}'", None
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {_describe(value)}", None
    if kind == "literal_error":
        return f"{_describe(value)} is not allowed", f"use one of: {ctx.get('expected', '')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
        bound = next(v for k, v in ctx.items() if k in ("ge", "gt", "le", "lt"))
        return f"{_describe(value)} must be {words[kind]} {bound}", None
    if kind == "string_pattern_mismatch":
        return f"{_describe(value)} is not valid", f"it must match {ctx.get('pattern')}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} entry", None
    return str(error["msg"]).removeprefix("Value error, "), None


@dataclass
class _Origins:
    """For a merged document: which merged paths came from an environment overlay, and from where."""

    overlays: dict[Path_, Path_]

    def source(self, path: Path_) -> Path_:
        for cut in range(len(path), -1, -1):
            prefix = path[:cut]
            if prefix in self.overlays:
                return self.overlays[prefix] + path[cut:]
        return path


def _merge(base: Any, overlay: Any, path: Path_, source: Path_, origins: dict[Path_, Path_]) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = _merge(base.get(key), value, (*path, key), (*source, key), origins)
        return merged
    origins[path] = source
    return copy.deepcopy(overlay)


def _misspelled_missing(errors: list[Any]) -> set[tuple[Any, ...]]:
    """Missing keys that an unknown key beside them is a misspelling of: the unknown key's message says it all."""
    missing = {tuple(e["loc"]) for e in errors if e["type"] == "missing"}
    covered = set()
    for error in errors:
        if error["type"] == "extra_forbidden":
            parent = tuple(error["loc"][:-1])
            options = [str(loc[-1]) for loc in missing if loc[:-1] == parent]
            if not options:
                continue
            match = difflib.get_close_matches(str(error["loc"][-1]), options, n=1, cutoff=0.6)
            if match:
                covered.add((*parent, match[0]))
    return covered


def _issues_from_validation(exc: ValidationError, marks: Marks, origins: _Origins) -> list[ConfigIssue]:
    issues = []
    errors = exc.errors(include_url=False)
    covered = _misspelled_missing(errors)
    for index, error in enumerate(errors):
        if error["type"] == "missing" and tuple(error["loc"]) in covered:
            continue
        loc: Path_ = tuple(p for p in error["loc"] if p != "[key]")
        at_key = error["type"] in ("extra_forbidden",) or (error["loc"] and error["loc"][-1] == "[key]")
        message, hint = _message(error, ShipitConfig, suggest=index < _SUGGESTION_LIMIT)
        source = origins.source(loc)
        if error["type"] == "missing":
            location = marks.location(source[:-1], key=True)
        else:
            location = marks.location(source, key=bool(at_key))
        issues.append(ConfigIssue(location, format_path(source), message, hint))
    return issues


def _issues_from_problems(problems: list[Problem], marks: Marks, origins: _Origins) -> list[ConfigIssue]:
    result = []
    for problem in problems:
        source = origins.source(problem.path)
        result.append(
            ConfigIssue(marks.location(source, key=problem.at_key), format_path(source), problem.message, problem.hint)
        )
    return result


# Required top-level keys that cross-field checks never read: a placeholder lets the rest be checked.
_PLACEHOLDERS: dict[str, Any] = {"version": 1, "app": "app"}
_WIRING_KEYS = [("databases",), ("secrets",)]
_ENTITY_DEPTH = {"services": 2, "databases": 2, "caches": 2, "environments": 2, "pubsub": 3}


def _delete(document: dict[str, Any], path: Path_) -> None:
    node: Any = document
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _pruned(document: dict[str, Any], exc: ValidationError) -> tuple[ShipitConfig, set[Path_]] | None:
    """The document with every invalid value removed (so defaults apply), validated; None if that is impossible.

    Lets the cross-field rules run on what is valid, so a typo in one key does not hide a reference error
    elsewhere. List items are never removed one by one (the indices in messages would shift): the whole list is.
    """
    doc = copy.deepcopy(document)
    pruned: set[Path_] = set()
    for _ in range(5):
        for error in exc.errors(include_url=False):
            loc: Path_ = tuple(p for p in error["loc"] if p != "[key]")
            if error["type"] == "missing":
                loc = loc[:-1]
            cut = next((i for i, part in enumerate(loc) if isinstance(part, int)), len(loc))
            loc = loc[:cut]
            if not loc and error["type"] == "missing" and str(error["loc"][-1]) in _PLACEHOLDERS:
                doc[str(error["loc"][-1])] = _PLACEHOLDERS[str(error["loc"][-1])]
                continue
            if len(loc) == 1 and str(loc[0]) in _PLACEHOLDERS:
                doc[str(loc[0])] = _PLACEHOLDERS[str(loc[0])]
                continue
            if not loc or (len(loc) == 1 and loc[0] in ("environments", "services")):
                return None
            _delete(doc, loc)
            pruned.add(loc)
        try:
            return ShipitConfig.model_validate(doc), pruned
        except ValidationError as again:
            exc = again
    return None


def _independent(problem: Problem, pruned: set[Path_]) -> bool:
    """Whether a cross-field problem found in a pruned document cannot be an artefact of the pruning."""
    path = problem.path
    depth = _ENTITY_DEPTH.get(str(path[0]), len(path)) if path else 0
    for removed in pruned:
        # Anything about the same service/database/environment/subscription could depend on the removed value.
        common = min(depth, len(removed))
        if path[:common] == removed[:common]:
            return False
        removed_depth = _ENTITY_DEPTH.get(str(removed[0]), 1)
        entity_level = len(removed) <= removed_depth
        # A removed service/database/topic makes references to it look undefined.
        whole_section = len(removed) < removed_depth
        if (
            entity_level
            and "is not defined" in problem.message
            and (whole_section or f"'{removed[-1]}'" in problem.message)
        ):
            return False
        # Database wiring reads every service's databases list and every database's env_var.
        touches_wiring = entity_level or (
            len(removed) > 2 and (removed[0], removed[2]) in (("services", "databases"), ("databases", "env_var"))
        )
        wiring = path[0] == "databases" or path[:2] == ("secrets", "extra") or path[2:3] in _WIRING_KEYS
        if touches_wiring and wiring:
            return False
    return True


def _checked(config: ShipitConfig, root: Path | None) -> list[Problem]:
    """Cross-field rules, plus (when the project directory is known) paths that leave the project."""
    problems = check(config)
    if root is not None:
        from shipit.config.paths import path_problems

        problems.extend(Problem(path, message, hint) for path, message, hint in path_problems(config, root))
    return problems


def _validate(
    document: dict[str, Any], marks: Marks, origins: _Origins, root: Path | None = None
) -> tuple[ShipitConfig | None, list[ConfigIssue]]:
    """Schema errors and cross-field problems of one document, all at once."""
    try:
        config = ShipitConfig.model_validate(document)
    except ValidationError as exc:
        issues = _issues_from_validation(exc, marks, origins)
        fallback = _pruned(document, exc)
        if fallback is not None:
            pruned_config, pruned = fallback
            problems = [p for p in check(pruned_config) if _independent(p, pruned)]
            issues.extend(_issues_from_problems(problems, marks, origins))
        return None, issues
    return config, _issues_from_problems(_checked(config, root), marks, origins)


@dataclass(frozen=True)
class LoadedConfig:
    path: Path
    display: str
    base: ShipitConfig
    merged: Mapping[str, ShipitConfig]
    # Where each key is, for checks that run after loading (local files, the env file).
    marks: Marks | None = None

    @property
    def root(self) -> Path:
        return self.path.parent

    def environment_names(self) -> list[str]:
        return list(self.base.environments)

    def default_environment(self) -> str | None:
        if self.base.default_environment:
            return self.base.default_environment
        names = self.environment_names()
        return names[0] if len(names) == 1 else None


def load_config(path: Path, display: str | None = None) -> LoadedConfig:
    display = display or str(path)
    text = read_text(path, display)
    raw, marks = load_yaml(text, display)
    if raw is None:
        raise ConfigError(
            [
                ConfigIssue(
                    Location(display, 1, 1),
                    "",
                    "the file is empty",
                    "start from shipit.yaml.example or run `shipit init`",
                )
            ]
        )
    if not isinstance(raw, dict):
        raise ConfigError(
            [
                ConfigIssue(
                    Location(display, 1, 1),
                    "",
                    f"expected a mapping at the top level, got {_describe(raw)}",
                    "start with `version: 1` and `app: NAME`",
                )
            ]
        )
    issues: list[ConfigIssue] = []
    no_overlays = _Origins({})
    root = path.parent
    base, base_issues = _validate(raw, marks, no_overlays, root)
    issues.extend(base_issues)

    merged: dict[str, ShipitConfig] = {}
    environments = raw.get("environments")
    for env_name, env_raw in environments.items() if isinstance(environments, dict) else ():
        if not isinstance(env_raw, dict):
            continue
        origins: dict[Path_, Path_] = {}
        document = dict(raw)
        for section in OVERLAY_SECTIONS:
            overlay = env_raw.get(section)
            if isinstance(overlay, dict) and overlay:
                source = ("environments", env_name, section)
                document[section] = _merge(raw.get(section, {}), overlay, (section,), source, origins)
        if not origins:
            if base is not None:
                merged[env_name] = base
            continue
        env_config, env_issues = _validate(document, marks, _Origins(origins), root)
        issues.extend(env_issues)
        if env_config is not None:
            merged[env_name] = env_config

    if issues:
        unique = list(dict.fromkeys(issues))
        unique.sort(key=lambda i: (i.location.line or 0, i.location.column or 0))
        raise ConfigError(unique)
    assert base is not None
    return LoadedConfig(path=path, display=display, base=base, merged=merged, marks=marks)
