"""YAML loading that remembers where every key and value came from, and rejects duplicate keys.

PyYAML's safe loader silently keeps the last of two duplicate keys; a deploy tool must not. We compose
the node tree ourselves so each value's path maps to a (line, column) for error messages.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from shipit.boundedread import CONFIG_LIMIT, nul_location
from shipit.errors import ConfigError, ConfigIssue, Location

Path_ = tuple[str | int, ...]
MAX_CONFIG_BYTES = CONFIG_LIMIT


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


def load_yaml_file(path: Path, display: str, limit: int, *, what: str) -> tuple[Any, Marks]:
    """Plain data from a YAML file other than shipit.yaml (a compose file): bounded, located, same loader."""
    from shipit.boundedread import read_bounded, utf8_or_located

    text = utf8_or_located(read_bounded(path, display, limit, what=what), display)
    nul = nul_location(text)
    if nul is not None:
        raise _issue(display, *nul, "a NUL byte cannot appear in YAML", "save the file as plain UTF-8 text")
    return load_yaml(text, display)


def read_text(path: Path, display: str) -> str:
    from shipit.boundedread import FileMissing, read_bounded

    if os.path.isdir(path):
        raise ConfigError(
            [ConfigIssue(Location(display), "", "is a directory, not a file", "pass -f path/to/shipit.yaml")]
        )
    try:
        info = path.stat()
    except OSError:
        info = None
    if info is not None and stat.S_ISREG(info.st_mode) and info.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(
            [
                ConfigIssue(
                    Location(display),
                    "",
                    f"file is {info.st_size} bytes, larger than the {MAX_CONFIG_BYTES} byte limit",
                    "a shipit.yaml this large is almost certainly not one; check the -f path",
                )
            ]
        )
    try:
        data = read_bounded(path, display, CONFIG_LIMIT, what="shipit.yaml")
    except FileMissing:
        raise ConfigError(
            [ConfigIssue(Location(display), "", "file not found", "run `shipit init` or pass -f FILE")]
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _issue(
            display, line, col, f"invalid UTF-8 byte 0x{data[exc.start]:02x}", "save the file as UTF-8"
        ) from None
    nul = nul_location(text)
    if nul is not None:
        # PyYAML reports a NUL at the end of the file; point at the byte itself.
        raise _issue(display, *nul, "a NUL byte cannot appear in YAML", "save the file as plain UTF-8 text")
    return text


# Limits of the YAML loader (README "Limits"): a real shipit.yaml nests under 10 levels and uses a few aliases.
MAX_DEPTH = 64
# Nodes an alias may expand to, in total: stops a "billion laughs" document after this many, not 10^9.
MAX_ALIAS_EXPANSION = 10_000
_CORE_TAGS = frozenset(
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _LocatedYAMLError(Exception):
    def __init__(self, mark: Any, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else 1
        self.column = mark.column + 1 if mark is not None else 1
        self.message, self.hint = message, hint


class _DepthLimit(Composer):
    """PyYAML's composer with a nesting limit (its recursion would otherwise hit Python's own)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _LocatedYAMLError(
                    self.peek_event().start_mark,  # type: ignore[attr-defined]
                    f"nested more than {MAX_DEPTH} levels deep",
                    "flatten the structure; shipit.yaml never needs this depth",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _SlowLoader(_DepthLimit, yaml.SafeLoader):
    pass


if yaml.__with_libyaml__:  # libyaml's parser is ~10x faster; the composer stays Python so its depth is ours to limit
    from yaml._yaml import CParser

    class _FastLoader(_DepthLimit, CParser, SafeConstructor, Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = _SlowLoader  # type: ignore[misc,assignment]

# Files up to this size are re-parsed by the pure-Python parser on a syntax error, for its clearer message.
_REPARSE_LIMIT = 64 * 1024


def _compose(text: str, loader_class: Any) -> Any:
    loader = loader_class(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def load_yaml(text: str, display: str) -> tuple[Any, Marks]:
    marks = Marks(display)
    try:
        try:
            node = _compose(text, _FastLoader)
        except yaml.MarkedYAMLError:
            if len(text) > _REPARSE_LIMIT:
                raise
            # libyaml's messages are terser than PyYAML's: on this rare path, PyYAML's parser says what is wrong.
            node = _compose(text, _SlowLoader)
    except _LocatedYAMLError as exc:
        raise _issue(display, exc.line, exc.column, f"invalid YAML: {exc.message}", exc.hint) from None
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
    try:
        value = _Converter(marks).convert(node, ())
    except _LocatedYAMLError as exc:
        raise _issue(display, exc.line, exc.column, exc.message, exc.hint) from None
    return value, marks


class _Converter:
    """Node tree -> plain data, recording marks; bounds alias expansion and refuses cycles and exotic tags."""

    def __init__(self, marks: Marks) -> None:
        self.marks = marks
        self.constructor = SafeConstructor()
        self.seen: set[int] = set()  # nodes converted once: meeting one again means an alias
        self.active: set[int] = set()  # nodes being converted: meeting one again means a cycle
        self.expanded = 0

    def convert(self, node: yaml.Node, path: Path_, *, via_alias: bool = False) -> Any:
        ident = id(node)
        if ident in self.active:
            raise _LocatedYAMLError(
                node.start_mark, "an alias refers to a node that contains it (a recursive alias)", "remove the cycle"
            )
        via_alias = via_alias or ident in self.seen
        if via_alias:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise _LocatedYAMLError(
                    node.start_mark,
                    f"aliases expand to more than {MAX_ALIAS_EXPANSION} values",
                    "use fewer nested aliases (*name)",
                )
        self.seen.add(ident)
        self.active.add(ident)
        try:
            return self._convert(node, path, via_alias)
        finally:
            self.active.discard(ident)

    def _convert(self, node: yaml.Node, path: Path_, via_alias: bool) -> Any:
        marks = self.marks
        marks.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                self._refuse_tag(node)
            result: dict[Any, Any] = {}
            merged: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    self._merge(value_node, path, via_alias, merged)
                    continue
                key = self._scalar(key_node)
                if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                    line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                    shown = "a mapping" if isinstance(key, dict) else "a list" if isinstance(key, list) else repr(key)
                    raise _issue(marks.file, line, col, f"a key must be a string, not {shown}", "quote it")
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
                result[key] = self.convert(value_node, key_path, via_alias=via_alias)
            marks.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
            return {**merged, **result} if merged else result
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                self._refuse_tag(node)
            return [self.convert(item, (*path, i), via_alias=via_alias) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _merge(self, value_node: yaml.Node, path: Path_, via_alias: bool, merged: dict[Any, Any]) -> None:
        """YAML merge keys (<<: *anchor or <<: [*a, *b]): the earlier source wins, explicit keys win over all."""
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise _LocatedYAMLError(
                    source.start_mark,
                    "a merge key (<<) needs a mapping or a list of mappings",
                    "merge an anchored mapping: <<: *name",
                )
            converted = self.convert(source, path, via_alias=via_alias)
            for key, value in converted.items():
                merged.setdefault(key, value)

    def _scalar(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _CORE_TAGS:
                self._refuse_tag(node)
            if node.tag == "tag:yaml.org,2002:timestamp":
                return str(node.value)  # YAML 1.2's core schema has no dates: 2024-01-01 is a string
            try:
                return self.constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError, OverflowError) as exc:
                raise _LocatedYAMLError(node.start_mark, f"invalid value: {exc}") from None
        if isinstance(node, yaml.MappingNode):
            return {}  # a key that is a collection: reported by the caller
        if isinstance(node, yaml.SequenceNode):
            return []
        raise _LocatedYAMLError(node.start_mark, "unsupported YAML node")

    def _refuse_tag(self, node: yaml.Node) -> None:
        raise _LocatedYAMLError(
            node.start_mark,
            f"the YAML tag {_short_tag(node.tag)} is not allowed",
            "shipit.yaml holds plain strings, numbers, booleans, null, lists and mappings; remove the tag",
        )


def _short_tag(tag: str) -> str:
    short = tag.replace("tag:yaml.org,2002:", "!!")
    return short if len(short) <= 40 else short[:37] + "..."
