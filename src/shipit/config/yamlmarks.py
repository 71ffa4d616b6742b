"""YAML loading that remembers where every key and value came from, and rejects duplicate keys.

PyYAML's safe loader silently keeps the last of two duplicate keys; a deploy tool must not. We compose
the node tree ourselves so each value's path maps to a (line, column) for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shipit.errors import ConfigError, ConfigIssue, Location

Path_ = tuple[str | int, ...]
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass
class Marks:
    """Where each path's key and value start (1-based line and column)."""

    file: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: Path_, *, key: bool = False) -> Location:
        table = self.keys if key else self.values
        probe = path
        while True:
            if probe in table:
                line, col = table[probe]
                return Location(self.file, line, col)
            if key and probe in self.values:
                line, col = self.values[probe]
                return Location(self.file, line, col)
            if not probe:
                return Location(self.file, 1, 1)
            probe = probe[:-1]


def format_path(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _issue(file: str, line: int, col: int, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError([ConfigIssue(Location(file, line, col), "", message, hint)])


def read_text(path: Path, display: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            [ConfigIssue(Location(display), "", "file not found", "run `shipit init` or pass -f FILE")]
        ) from None
    except OSError as exc:
        raise ConfigError([ConfigIssue(Location(display), "", f"cannot read file: {exc.strerror}")]) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [
                ConfigIssue(
                    Location(display),
                    "",
                    f"file is {len(data)} bytes, larger than the {MAX_CONFIG_BYTES} byte limit",
                    "a shipit.yaml this large is almost certainly not one; check the -f path",
                )
            ]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _issue(
            display, line, col, f"invalid UTF-8 byte 0x{data[exc.start]:02x}", "save the file as UTF-8"
        ) from None


def load_yaml(text: str, display: str) -> tuple[Any, Marks]:
    marks = Marks(display)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        hint = None
        if "\t" in problem or "'\\t'" in problem:
            problem = "a tab character cannot be used for indentation"
            hint = "indent YAML with spaces"
        elif "mapping values are not allowed" in problem:
            hint = "a value containing ': ' must be quoted"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        context, start = exc.context, exc.context_mark
        if context and start and exc.problem and hint is None and start.line + 1 != line:
            # "end of stream" alone does not say which quote or bracket was left open.
            problem += f", {context.strip()} that starts at line {start.line + 1}, column {start.column + 1}"
        raise _issue(display, line, col, f"invalid YAML: {problem}", hint) from None
    except yaml.YAMLError as exc:
        raise _issue(display, 1, 1, f"invalid YAML: {exc}") from None
    if node is None:
        return None, marks
    constructor = yaml.SafeLoader("")
    value = _convert(node, (), marks, constructor)
    return value, marks


def _convert(node: yaml.Node, path: Path_, marks: Marks, constructor: yaml.SafeLoader) -> Any:
    marks.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        constructor.flatten_mapping(node)  # resolves YAML merge keys (<<: *anchor)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                raise _issue(marks.file, line, col, f"a key must be a string, not {key!r}", "quote it")
            key = str(key)
            if key in result:
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                first = marks.keys.get((*path, key), (0, 0))[0]
                raise _issue(
                    marks.file,
                    line,
                    col,
                    f"duplicate key '{key}' in {format_path(path) or 'the top level'}",
                    f"it is already defined on line {first}; keep one",
                )
            key_path: Path_ = (*path, key)
            marks.keys[key_path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _convert(value_node, (*path, key), marks, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), marks, constructor) for i, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)
