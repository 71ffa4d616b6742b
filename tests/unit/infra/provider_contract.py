"""Check Terraform text against a recorded provider schema, offline.

The Google provider can't be downloaded here, so `terraform validate` never sees the generated module.
This checker does the part of validation that depends on the provider's schema: every argument and block
a resource or data block uses exists for its type and has the right kind (attribute vs block), every
required one is present (written directly or through a `dynamic` block), enum-valued arguments hold
allowed values where they are literals, and the few cross-field constraints the provider enforces at plan
time (exactly one of, conflicts with, ...) hold. The schema is `google_provider_schema.json`, transcribed
from the provider's sources; see its "source" field.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

SCHEMA_PATH = Path(__file__).with_name("google_provider_schema.json")

# explicit_blocks marks every block body with "__is_block__", which is what tells `x { }` from `x = {...}`.
_PARSE = SerializationOptions(with_comments=False, explicit_blocks=True, strip_string_quotes=True)
_BLOCK_MARK = "__is_block__"

# Terraform's own arguments, valid in every resource / data block whatever the provider says.
_META_ATTRIBUTES = frozenset({"count", "for_each", "depends_on", "provider"})
_META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})

_INTERPOLATION = re.compile(r"\$\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")
# `${cond ? "A" : "B"}`: both branches are literals, so both can be checked.
_TERNARY = re.compile(r'^\$\{.*\?\s*"([^"\\]*)"\s*:\s*"([^"\\]*)"\s*\}$', re.DOTALL)


@dataclass(frozen=True)
class Violation:
    """One way a block disagrees with the provider schema; `str()` is the line a test failure shows."""

    file: str
    address: str  # resource or data address, e.g. google_sql_database_instance.db or data.google_project.this
    path: str  # the argument inside it, e.g. settings.ip_configuration.ipv4_enabled
    message: str

    def __str__(self) -> str:
        where = f"{self.address}: {self.path}" if self.path else self.address
        return f"{self.file}: {where}: {self.message}"


@dataclass(frozen=True)
class ProviderSchema:
    """The recorded schema: {"resource" | "data" | "ephemeral": {type: spec}}, spec = {"arguments": {...}, ...}."""

    resource: Mapping[str, Mapping[str, Any]]
    data: Mapping[str, Mapping[str, Any]]
    source: Mapping[str, Any] = field(default_factory=dict)
    ephemeral: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = SCHEMA_PATH) -> ProviderSchema:
        doc = json.loads(path.read_text())
        return cls(resource=doc["resource"], data=doc["data"], source=doc["source"], ephemeral=doc.get("ephemeral", {}))

    def kinds(self) -> tuple[tuple[str, Mapping[str, Mapping[str, Any]], str], ...]:
        """(block keyword, specs, address prefix) for each kind of block the checker reads."""
        return (
            ("resource", self.resource, ""),
            ("data", self.data, "data."),
            ("ephemeral", self.ephemeral, "ephemeral."),
        )

    def types(self) -> set[str]:
        return {f"{kind}.{t}" for kind, specs, _ in self.kinds() for t in specs}


@dataclass
class _Use:
    """How a body uses one name: as an attribute (its value) or as blocks (static bodies, dynamic bodies)."""

    attribute: bool = False
    value: Any = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    dynamic: list[dict[str, Any]] = field(default_factory=list)

    @property
    def present(self) -> bool:
        # `x = null` is the same as leaving x out, so it doesn't satisfy a required argument.
        return (self.attribute and self.value is not None) or bool(self.blocks) or bool(self.dynamic)


def parse(text: str) -> dict[str, Any]:
    result: dict[str, Any] = hcl2.loads(text, serialization_options=_PARSE)
    return result


def _is_block_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and v.get(_BLOCK_MARK) for v in value)


def _is_dynamic_list(value: Any) -> bool:
    """`dynamic "x" { ... }` parses to [{"x": {..., "__is_block__": true}}]: the label wraps the block body."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(entry, dict) and all(isinstance(b, dict) and b.get(_BLOCK_MARK) for b in entry.values())
            for entry in value
        )
    )


def _uses(body: Mapping[str, Any], address: str, path: str, out: list[Violation], file: str) -> dict[str, _Use]:
    uses: dict[str, _Use] = {}
    for key, value in body.items():
        if key == _BLOCK_MARK:
            continue
        if key == "dynamic" and _is_dynamic_list(value):
            for entry in value:
                for name, spec in entry.items():
                    content = spec.get("content")
                    if "for_each" not in spec or not _is_block_list(content):
                        out.append(
                            Violation(file, address, _join(path, name), "dynamic block needs for_each and content")
                        )
                        continue
                    uses.setdefault(name, _Use()).dynamic.extend(content)
            continue
        use = uses.setdefault(key, _Use())
        if _is_block_list(value):
            use.blocks.extend(value)
        else:
            use.attribute, use.value = True, value
    return uses


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _literal_strings(value: Any) -> tuple[list[str], str | None]:
    """(strings the value certainly is, literal prefix of a template); ([], None) when nothing is known."""
    if not isinstance(value, str):
        return [], None
    plain = value.replace("$${", "")
    if "${" not in plain:
        return [value], None
    ternary = _TERNARY.match(value)
    if ternary:
        return [ternary.group(1), ternary.group(2)], None
    prefix = value.split("${", 1)[0]
    return [], prefix or None


def _format_regex(fmt: str) -> re.Pattern[str]:
    """`[projects|organizations]/{parent-name}/roles/{role-name}` -> a regex matching that format."""
    out = ""
    for token in re.split(r"(\[[^\]]+\]|\{[^}]+\})", fmt):
        if token.startswith("["):
            out += "(?:" + "|".join(re.escape(t) for t in token[1:-1].split("|")) + ")"
        elif token.startswith("{"):
            out += "[^/]+"
        else:
            out += re.escape(token)
    return re.compile(out)


def _check_value(spec: Mapping[str, Any], value: Any, report: list[str]) -> None:
    strings, prefix = _literal_strings(value)
    for allowed_key, closed in (("enum", True), ("documented_values", False)):
        allowed = spec.get(allowed_key)
        if not allowed:
            continue
        for s in strings:
            if s not in allowed:
                kind = "allowed values" if closed else "documented values (the list may be incomplete)"
                report.append(f"{s!r} is not one of the {kind}: {', '.join(allowed)}")
        if prefix is not None and not any(a.startswith(prefix) for a in allowed):
            report.append(f"no allowed value starts with {prefix!r}: {', '.join(allowed)}")
    if isinstance(value, str) and ("pattern" in spec or "not_pattern" in spec or "documented_formats" in spec):
        # Interpolations become a placeholder: "serviceAccount:${x}" is checked as "serviceAccount:x". A value
        # that is nothing but interpolations says nothing about its shape, so it is not checked.
        sample = _INTERPOLATION.sub("x", value)
        if not _INTERPOLATION.sub("", value).strip():
            return
        if "pattern" in spec and not re.search(spec["pattern"], sample):
            report.append(f"{value!r} does not match the provider's pattern {spec['pattern']}")
        if "not_pattern" in spec and re.search(spec["not_pattern"], sample):
            report.append(f"{value!r} matches the pattern the provider rejects: {spec['not_pattern']}")
        formats = spec.get("documented_formats", [])
        if formats and value == sample and not any(_format_regex(f).fullmatch(value) for f in formats):
            report.append(f"{value!r} has none of the documented formats: {', '.join(formats)}")
    rng = spec.get("documented_range")
    if rng and isinstance(value, int) and not isinstance(value, bool) and not rng[0] <= value <= rng[1]:
        report.append(f"{value} is outside the documented range {rng[0]}..{rng[1]}")


def _present(uses: Mapping[str, _Use], dotted: str, *, static_only: bool = False) -> bool:
    """Whether a constraint path like "network" or "subnet.0.name" is set in this body."""
    head, _, rest = dotted.partition(".0.")
    use = uses.get(head)
    if use is None:
        return False
    if not rest:
        if static_only:
            return (use.attribute and use.value is not None) or bool(use.blocks)
        return use.present
    bodies = use.blocks if static_only else [*use.blocks, *use.dynamic]
    if not bodies:
        return False
    return _present(_uses(bodies[0], "", "", [], ""), rest, static_only=static_only)


def _check_constraints(spec: Mapping[str, Any], uses: Mapping[str, _Use], report: list[tuple[str, str]]) -> None:
    for group in spec.get("exactly_one_of", []):
        present = [p for p in group if _present(uses, p)]
        static = [p for p in group if _present(uses, p, static_only=True)]
        if not present:
            report.append((group[0], f"exactly one of {', '.join(group)} must be set; none is"))
        elif len(static) > 1:
            report.append((static[1], f"only one of {', '.join(group)} may be set; {', '.join(static)} are"))
    for group in spec.get("at_least_one_of", []):
        if not any(_present(uses, p) for p in group):
            report.append((group[0], f"at least one of {', '.join(group)} must be set"))
    for a, b in spec.get("conflicts_with", []):
        if _present(uses, a, static_only=True) and _present(uses, b, static_only=True):
            report.append((b, f"conflicts with {a}: set only one"))
    for name, needs in spec.get("required_with", {}).items():
        if _present(uses, name, static_only=True):
            for other in needs:
                if not _present(uses, other):
                    report.append((name, f"requires {other} to be set too"))


def _check_body(
    spec: Mapping[str, Any],
    body: Mapping[str, Any],
    *,
    file: str,
    address: str,
    path: str,
    top: bool,
    out: list[Violation],
) -> None:
    arguments: Mapping[str, Mapping[str, Any]] = spec["arguments"]
    uses = _uses(body, address, path, out, file)
    for name, use in uses.items():
        where = _join(path, name)
        if top and (name in _META_ATTRIBUTES or name in _META_BLOCKS):
            continue
        arg = arguments.get(name)
        if arg is None:
            close = difflib.get_close_matches(name, list(arguments), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(Violation(file, address, where, f"unknown argument or block{hint}"))
            continue
        if arg["kind"] == "attribute":
            if use.blocks or use.dynamic:
                out.append(Violation(file, address, where, f"is an attribute: write `{name} = ...`, not a block"))
                continue
            problems: list[str] = []
            _check_value(arg, use.value, problems)
            out.extend(Violation(file, address, where, p) for p in problems)
            continue
        if use.attribute and not arg.get("attr_as_block"):
            out.append(Violation(file, address, where, f"is a block: write `{name} {{ ... }}`, not `{name} = ...`"))
            continue
        max_items = arg.get("max_items")
        if max_items is not None and not use.dynamic and len(use.blocks) > max_items:
            out.append(
                Violation(file, address, where, f"at most {max_items} block(s) allowed, {len(use.blocks)} given")
            )
        for inner in [*use.blocks, *use.dynamic]:
            _check_body(arg, inner, file=file, address=address, path=where, top=False, out=out)
    for name, arg in arguments.items():
        if arg.get("required") and not (name in uses and uses[name].present):
            out.append(Violation(file, address, _join(path, name), "missing required argument"))
    constraint_problems: list[tuple[str, str]] = []
    _check_constraints(spec, uses, constraint_problems)
    out.extend(Violation(file, address, _join(path, p), m) for p, m in constraint_problems)


def _blocks(doc: Mapping[str, Any], kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for entry in doc.get(kind, []):
        for btype, named in entry.items():
            if btype == _BLOCK_MARK:
                continue
            for bname, body in named.items():
                if bname != _BLOCK_MARK:
                    yield btype, bname, body


def check_text(file: str, text: str, schema: ProviderSchema) -> list[Violation]:
    """Every resource and data block of one .tf file, checked against `schema`."""
    doc = parse(text)
    out: list[Violation] = []
    for kind, specs, prefix in schema.kinds():
        for btype, bname, body in _blocks(doc, kind):
            address = f"{prefix}{btype}.{bname}"
            spec = specs.get(btype)
            if spec is None:
                out.append(Violation(file, address, "", f"{kind} type {btype} is not in {SCHEMA_PATH.name}"))
                continue
            _check_body(spec, body, file=file, address=address, path="", top=True, out=out)
    return out


def check_files(files: Mapping[str, str], schema: ProviderSchema) -> list[Violation]:
    """All .tf files of a generation ({relative path: text})."""
    out: list[Violation] = []
    for name, text in sorted(files.items()):
        if name.endswith(".tf"):
            out.extend(check_text(name, text, schema))
    return out


def used_types(files: Mapping[str, str]) -> set[str]:
    """The types of every resource, data and ephemeral block, as "resource.TYPE" / "data.TYPE" / "ephemeral.TYPE"."""
    found: set[str] = set()
    for name, text in files.items():
        if name.endswith(".tf"):
            doc = parse(text)
            for kind in ("resource", "data", "ephemeral"):
                found |= {f"{kind}.{t}" for t, _, _ in _blocks(doc, kind)}
    return found
