"""How an entry reads in a terminal: `name | time SEVERITY text`, like build logs."""

from __future__ import annotations

import json
from collections.abc import Sequence

from shipit.logs.query import RESOURCE_LABELS, Json, LogSource


def source_name(entry: Json, primary: str = "") -> str:
    """The workload an entry came from; `web@us-central1` outside the ``primary`` region, as plans name it."""
    labels = (entry.get("resource") or {}).get("labels") or {}
    for _kind, (_type, label) in RESOURCE_LABELS.items():
        if labels.get(label):
            location = labels.get("location")
            away = f"@{location}" if primary and location and location != primary else ""
            return f"{labels[label]}{away}"
    return "-"


def entry_text(entry: Json) -> str:
    """What a person wants to read of an entry: its text, a structured message, or a request summary."""
    if "textPayload" in entry:
        return str(entry["textPayload"])
    payload = entry.get("jsonPayload")
    if isinstance(payload, dict):
        message = payload.get("message") or payload.get("msg")
        return str(message) if message is not None else json.dumps(payload, sort_keys=True)
    request = entry.get("httpRequest")
    if isinstance(request, dict):
        latency = request.get("latency", "")
        return " ".join(
            str(p)
            for p in (request.get("requestMethod"), request.get("status"), request.get("requestUrl"), latency)
            if p not in (None, "")
        )
    proto = entry.get("protoPayload")
    if isinstance(proto, dict):
        return " ".join(str(p) for p in (proto.get("methodName"), proto.get("resourceName")) if p)
    return ""


def format_entry(entry: Json, width: int, primary: str = "") -> list[str]:
    """`service | 2026-12-02 08:01:02 ERROR   text`, one line per line of the entry's text."""
    name = source_name(entry, primary).ljust(width)
    stamp = str(entry.get("timestamp", ""))[:19].replace("T", " ")
    severity = str(entry.get("severity", "DEFAULT")).ljust(7)
    lines = entry_text(entry).splitlines() or [""]
    head = f"{name} | {stamp} {severity} "
    return [head + lines[0]] + [f"{name} | {' ' * len(stamp)} {' ' * 7} {line}" for line in lines[1:]]


def prefix_width(sources: Sequence[LogSource]) -> int:
    # A multi-region source's primary region comes first and is named without a suffix.
    names = [s.name for s in sources] + [f"{s.name}@{r}" for s in sources for r in s.regions[1:]]
    return max((len(n) for n in names), default=1)
