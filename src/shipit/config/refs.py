"""`${...}` references inside env values: parsed and checked at load time, resolved later by the steps.

Supported forms:
  ${services.NAME.url}       the deployed URL of another service (local: http://NAME:PORT)
  ${databases.NAME.url}      connection URL (a secret in the cloud); also .host .port .name .user
  ${environment.name}        also .project .region
  ${app}                     the app name
  ${env.VAR}                 a variable of the environment shipit runs in (CI), read at deploy time
  $${                        a literal "${"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_ATTRS: dict[str, frozenset[str]] = {
    "services": frozenset({"url", "name"}),
    "databases": frozenset({"url", "host", "port", "name", "user"}),
    "environment": frozenset({"name", "project", "region"}),
}


@dataclass(frozen=True)
class Reference:
    kind: str
    name: str = ""
    attr: str = ""

    def __str__(self) -> str:
        inner = ".".join(part for part in (self.kind, self.name, self.attr) if part)
        return "${" + inner + "}"


class ReferenceError_(ValueError):
    pass


def _parse_one(inner: str) -> Reference:
    parts = inner.strip().split(".")
    kind = parts[0]
    if kind == "app" and len(parts) == 1:
        return Reference("app")
    if kind == "env" and len(parts) == 2 and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", parts[1]):
        return Reference("env", parts[1])
    if kind == "environment" and len(parts) == 2 and parts[1] in _ATTRS["environment"]:
        return Reference("environment", attr=parts[1])
    if kind in ("services", "databases") and len(parts) == 3 and parts[2] in _ATTRS[kind]:
        return Reference(kind, parts[1], parts[2])
    if kind in ("services", "databases") and len(parts) == 3:
        allowed = ", ".join(sorted(_ATTRS[kind]))
        raise ReferenceError_(f"'${{{inner}}}' has no attribute '{parts[2]}' (use one of: {allowed})")
    raise ReferenceError_(
        f"'${{{inner}}}' is not a valid reference (use ${{services.NAME.url}}, ${{databases.NAME.url}}, "
        "${environment.project}, ${app} or ${env.VAR}; write $${ for a literal)"
    )


def parse_refs(value: str) -> list[Reference]:
    refs: list[Reference] = []
    for match in _REF.finditer(value):
        if match.group(0) == "$${":
            continue
        refs.append(_parse_one(match.group(1)))
    unclosed = _REF.sub("", value)
    if "${" in unclosed:
        raise ReferenceError_(f"unclosed '${{' in '{value}' (write $${{ for a literal)")
    return refs


def substitute(value: str, resolve: Callable[[Reference], str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        return resolve(_parse_one(match.group(1)))

    return _REF.sub(replace, value)
