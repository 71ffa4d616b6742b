"""Cloud Logging v2 `entries.list`, with the part of the Logging query language shipit writes.

Filters are parsed, not pattern-matched: comparisons (`=`, `!=`, `>`, `>=`, `<`, `<=`, `:`) of a field path
(`resource.labels.service_name`, `labels."run.googleapis.com/execution_name"`) with a quoted or bare
value, joined by AND / OR / NOT and parentheses, and a parenthesised OR list after `=`
(`resource.labels.service_name=("api" OR "web")`). Anything else is rejected with INVALID_ARGUMENT, as
Google rejects a filter it cannot parse, so a filter the fake does not understand fails the test
instead of matching everything. Severities compare by rank; `timestamp` compares as a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fakegcp.errors import ApiError
from fakegcp.model import ApiRequest, Clock, Handler, Json

SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
_RANK = {name: i for i, name in enumerate(SEVERITIES)}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lp>\() | (?P<rp>\)) |
        (?P<op>>=|<=|!=|=|>|<|:) |
        (?P<str>"(?:[^"\\]|\\.)*") |
        (?P<word>[A-Za-z0-9_\-/@*+]+(?:\.(?:[A-Za-z0-9_\-/@*+]+|"(?:[^"\\]|\\.)*"))*)
    )""",
    re.VERBOSE,
)
Predicate = Callable[[Json], bool]
MAX_PAGE = 1000


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _path(word: str) -> list[str]:
    parts: list[str] = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|([^."]+)', word):
        parts.append(_unquote(f'"{m.group(1)}"') if m.group(1) is not None else m.group(2))
    return parts


def _lookup(entry: Json, path: list[str]) -> Any:
    value: Any = entry
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError.invalid_argument(f"Invalid timestamp in filter: {text}") from None


def _compare(field: list[str], op: str, wanted: str) -> Predicate:
    def check(entry: Json) -> bool:
        actual = _lookup(entry, field)
        if actual is None:
            return op == "!="
        if field == ["severity"]:
            left, right = _RANK.get(str(actual), 0), _RANK.get(wanted.upper(), -1)
        elif field == ["timestamp"]:
            left, right = _time(str(actual)), _time(wanted)  # type: ignore[assignment]
        else:
            left, right = str(actual), wanted  # type: ignore[assignment]
        if op == ":":
            return wanted.lower() in str(actual).lower()
        return {
            "=": left == right,
            "!=": left != right,
            ">": left > right,
            ">=": left >= right,
            "<": left < right,
            "<=": left <= right,
        }[op]

    if field == ["severity"] and wanted.upper() not in _RANK:
        raise ApiError.invalid_argument(f"Invalid severity in filter: {wanted}")
    return check


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise ApiError.invalid_argument(f"Unparseable filter at column {pos + 1}: {text[pos : pos + 20]!r}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ApiError.invalid_argument("Unexpected end of filter")
        self.i += 1
        return token

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda _e: True
        pred = self.disjunction()
        if self.peek() is not None:
            raise ApiError.invalid_argument(f"Unexpected token in filter: {self.peek()[1]!r}")  # type: ignore[index]
        return pred

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.peek() == ("word", "OR"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.unary()]
        while True:
            token = self.peek()
            if token == ("word", "AND"):
                self.take()
            elif token is None or token[0] == "rp" or token == ("word", "OR"):
                break
            parts.append(self.unary())  # juxtaposition means AND
        return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))

    def unary(self) -> Predicate:
        if self.peek() == ("word", "NOT"):
            self.take()
            inner = self.unary()
            return lambda e: not inner(e)
        if self.peek() == ("lp", "("):
            self.take()
            inner = self.disjunction()
            if self.take() != ("rp", ")"):
                raise ApiError.invalid_argument("Unbalanced parenthesis in filter")
            return inner
        kind, word = self.take()
        if kind != "word":
            raise ApiError.invalid_argument(f"Expected a field name in filter, got {word!r}")
        _, op = self.take()
        if op not in ("=", "!=", ">", ">=", "<", "<=", ":"):
            raise ApiError.invalid_argument(f"Expected a comparison after {word!r}")
        field = _path(word)
        if self.peek() == ("lp", "("):
            self.take()
            options = [self.value()]
            while self.peek() == ("word", "OR"):
                self.take()
                options.append(self.value())
            if self.take() != ("rp", ")"):
                raise ApiError.invalid_argument("Unbalanced parenthesis in filter")
            checks = [_compare(field, op, v) for v in options]
            return lambda e: any(c(e) for c in checks)
        return _compare(field, op, self.value())

    def value(self) -> str:
        kind, text = self.take()
        if kind == "str":
            return _unquote(text)
        if kind == "word":
            return text
        raise ApiError.invalid_argument(f"Expected a value in filter, got {text!r}")


def parse_filter(text: str) -> Predicate:
    return _Parser(text).parse()


@dataclass
class Logging:
    """Log entries by insertion; `add` seeds them as Cloud Run's logging agent would write them."""

    clock: Clock

    def __post_init__(self) -> None:
        self.entries: list[Json] = []
        self._next_id = 0

    def reset(self) -> None:
        self.entries.clear()

    def add(self, entries: Iterable[Json]) -> None:
        for entry in entries:
            self._next_id += 1
            full = {"insertId": f"fake{self._next_id:08d}", "timestamp": self.clock.now(), **entry}
            full.setdefault("receiveTimestamp", full["timestamp"])
            self.entries.append(full)

    def handlers(self) -> dict[str, Handler]:
        return {"logging.entries.list": self._list}

    def _list(self, req: ApiRequest) -> Json:
        body = req.body
        names = body.get("resourceNames") or []
        if not names:
            raise ApiError.invalid_argument("resource_names must contain at least one resource")
        projects = set()
        for name in names:
            if not re.fullmatch(r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9]", name):
                raise ApiError.invalid_argument(f"Invalid resource name: {name}")
            projects.add(name)
        order = body.get("orderBy") or "timestamp asc"
        if order not in ("timestamp asc", "timestamp desc"):
            raise ApiError.invalid_argument(f"Invalid orderBy: {order}")
        size = int(body.get("pageSize") or 50)
        if size < 0:
            raise ApiError.invalid_argument("page_size must not be negative")
        size = min(size or 50, MAX_PAGE)
        predicate = parse_filter(body.get("filter") or "")
        matching = [e for e in self.entries if e.get("logName", "").split("/logs/")[0] in projects and predicate(e)]
        matching.sort(key=lambda e: (_time(e["timestamp"]), e["insertId"]), reverse=order == "timestamp desc")
        start = int(body.get("pageToken") or 0)
        page = matching[start : start + size]
        out: Json = {"entries": page} if page else {}
        if start + size < len(matching):
            out["nextPageToken"] = str(start + size)
        return out
