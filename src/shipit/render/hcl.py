"""A small HCL emitter whose output `terraform fmt` leaves unchanged.

Only what shipit writes: blocks, attributes with literal values (strings, numbers, booleans, null,
lists, objects) or raw expressions, comments and blank lines. Alignment follows hclwrite's rules:
the `=` of consecutive single-line attributes line up; a comment, a blank line, a block or a
multi-line attribute ends the run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Union

INDENT = "  "
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_KEYWORDS = frozenset({"true", "false", "null", "for", "in", "if"})


@dataclass(frozen=True)
class Raw:
    """An HCL expression written as is, e.g. ``Raw("var.project")``."""

    expr: str


Value = Union[str, int, float, bool, None, Raw, Sequence["Value"], Mapping[str, "Value"]]  # noqa: UP007 (recursive alias)


@dataclass(frozen=True)
class Attr:
    name: str
    value: Value


@dataclass(frozen=True)
class Comment:
    text: str


@dataclass(frozen=True)
class Blank:
    pass


@dataclass(frozen=True)
class Block:
    type: str
    labels: tuple[str, ...] = ()
    body: tuple[Item, ...] = field(default=())


Item = Union[Attr, Block, Comment, Blank]  # noqa: UP007 (used before Block is complete on 3.10)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def string(value: str) -> str:
    """A quoted HCL string whose value is exactly ``value``: quotes, backslashes and control characters are
    escaped, and the `$` or `%` of a `${` / `%{` is written as a \\u escape so a value is never read as a
    template. (HCL's own `$${` escape is ambiguous to some parsers next to another `$` or at the end of a
    string; the \\u form means the same to Terraform and to every other reader.)"""
    out: list[str] = []
    for i, char in enumerate(value):
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or char in "\x7f\u2028\u2029" or (char in "$%" and value[i + 1 : i + 2] == "{"):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _key(name: str) -> str:
    if _IDENT.fullmatch(name) and name not in _KEYWORDS:
        return name
    return string(name)


def _scalar(value: Value) -> str | None:
    if isinstance(value, Raw):
        return value.expr
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return string(value)
    return None


def _value_lines(value: Value, depth: int) -> list[str]:
    """The value's lines; the first goes after `name = `, the rest are fully indented."""
    scalar = _scalar(value)
    if scalar is not None:
        return [scalar]
    pad = INDENT * depth
    if isinstance(value, Mapping):
        if not value:
            return ["{}"]
        inner = [Attr(_key(k), v) for k, v in value.items()]
        return ["{", *_body_lines(inner, depth + 1, raw_names=True), pad + "}"]
    assert isinstance(value, Sequence)
    items = list(value)
    if all(_scalar(item) is not None for item in items):
        return ["[" + ", ".join(str(_scalar(item)) for item in items) + "]"]
    lines = ["["]
    for item in items:
        item_lines = _value_lines(item, depth + 1)
        lines.append(INDENT * (depth + 1) + item_lines[0])
        lines.extend(item_lines[1:])
        lines[-1] += ","
    lines.append(pad + "]")
    return lines


def _body_lines(items: Sequence[Item], depth: int, *, raw_names: bool = False) -> list[str]:
    pad = INDENT * depth
    out: list[str] = []
    run: list[tuple[str, str]] = []  # consecutive single-line attributes, aligned together

    def flush() -> None:
        width = max((len(name) for name, _ in run), default=0)
        out.extend(f"{pad}{name.ljust(width)} = {text}" for name, text in run)
        run.clear()

    for item in items:
        if isinstance(item, Attr):
            name = item.name if raw_names else _key(item.name)
            lines = _value_lines(item.value, depth)
            if len(lines) == 1:
                run.append((name, lines[0]))
                continue
            flush()
            out.append(f"{pad}{name} = {lines[0]}")
            out.extend(lines[1:])
            continue
        flush()
        if isinstance(item, Comment):
            out.extend(f"{pad}# {line}".rstrip() for line in item.text.splitlines())
        elif isinstance(item, Blank):
            out.append("")
        else:
            out.extend(_block_lines(item, depth))
    flush()
    return out


def _block_lines(block: Block, depth: int) -> list[str]:
    pad = INDENT * depth
    head = " ".join([block.type, *(string(label) for label in block.labels)])
    if not block.body:
        return [f"{pad}{head} {{}}"]
    return [f"{pad}{head} {{", *_body_lines(block.body, depth + 1), f"{pad}}}"]


def render(items: Sequence[Item]) -> str:
    """A whole file: top-level items, one blank line between blocks, a final newline."""
    lines: list[str] = []
    previous: Item | None = None
    for item in items:
        if isinstance(item, Block) and previous is not None and not isinstance(previous, (Blank, Comment)):
            lines.append("")
        lines.extend(_body_lines([item], 0))
        previous = item
    return "\n".join(lines).rstrip("\n") + "\n"
