"""Shared building blocks of the fake APIs: requests, responses, time, ids, pages, LROs, IAM."""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fakegcp.discovery import Method, camel
from fakegcp.errors import ApiError

Json = dict[str, Any]


@dataclass(frozen=True)
class ApiRequest:
    """A routed, validated request handed to an API handler."""

    method: Method
    params: dict[str, str]
    query: dict[str, str]
    body: Json
    host: str = ""
    raw: bytes = b""  # the body of a media upload
    headers: dict[str, str] = field(default_factory=dict)

    def flag(self, name: str) -> bool:
        return self.query.get(name, "false").lower() in ("true", "1")

    def int_query(self, name: str, default: int = 0) -> int:
        raw = self.query.get(name)
        return int(raw) if raw not in (None, "") else default


@dataclass
class ApiResponse:
    status: int = 200
    body: Json = field(default_factory=dict)
    raw: bytes | None = None  # answered as is (a media download) instead of body as JSON
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[ApiRequest], "Json | ApiResponse"]


class Clock:
    """Wall-clock time, strictly increasing so that every write gets a distinct timestamp."""

    def __init__(self) -> None:
        self._last = 0.0
        self._lock = threading.Lock()

    def now(self) -> str:
        with self._lock:
            t = max(datetime.now(timezone.utc).timestamp(), self._last + 1e-6)
            self._last = t
        return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def digest(*parts: object, length: int = 10, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
    """A deterministic short id derived from `parts`."""
    raw = int.from_bytes(hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()[:16], "big")
    out = []
    for _ in range(length):
        raw, rem = divmod(raw, len(alphabet))
        out.append(alphabet[rem])
    return "".join(out)


def uuid_for(*parts: object) -> str:
    h = hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def project_number(project: str) -> str:
    """A stable 12-digit project number for a project id (numbers map to themselves)."""
    if project.isdigit():
        return project
    return str(100000000000 + int(hashlib.sha256(project.encode()).hexdigest()[:12], 16) % 900000000000)


def etag_of(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:14]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64decode(text: str) -> bytes:
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def deep_copy(obj: Any) -> Any:
    return copy.deepcopy(obj)


def paginate(items: list[Json], request: ApiRequest, max_page_size: int = 1000) -> tuple[list[Json], str]:
    """One page of `items` for the request's pageSize/pageToken; returns (page, nextPageToken)."""
    size = request.int_query("pageSize")
    if size < 0:
        raise ApiError.invalid_argument("page_size must be non-negative")
    size = min(size or max_page_size, max_page_size)
    token = request.query.get("pageToken", "")
    start = 0
    if token:
        try:
            start = int(b64decode(token).decode().removeprefix("offset:"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError.invalid_argument(f"Invalid page token: {token}") from exc
    page = items[start : start + size]
    nxt = b64(f"offset:{start + size}".encode()) if start + size < len(items) else ""
    return page, nxt


def page_body(key: str, page: list[Json], next_token: str, **extra: Any) -> Json:
    out: Json = {key: page} if page else {}
    if next_token:
        out["nextPageToken"] = next_token
    out.update(extra)
    return out


class Operations:
    """Long-running operations of one API. An operation is done after `polls_before_done` gets."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.ops: dict[str, Json] = {}
        self.pending: dict[str, int] = {}
        self.polls_before_done = 0
        self._seq = itertools.count(1)

    def start(self, location: str, metadata: Json | None, response: Json | None, error: ApiError | None = None) -> Json:
        name = f"{location}/operations/{uuid_for(self.api, location, next(self._seq))}"
        op: Json = {"name": name, "done": True}
        if metadata is not None:
            op["metadata"] = metadata
        if error is not None:
            op["error"] = error.to_rpc_status()
        elif response is not None:
            op["response"] = response
        self.ops[name] = op
        if self.polls_before_done > 0:
            self.pending[name] = self.polls_before_done
            return self._view(name)
        return deep_copy(op)  # type: ignore[no-any-return]

    def _view(self, name: str) -> Json:
        op = self.ops[name]
        if self.pending.get(name, 0) > 0:
            return {k: deep_copy(v) for k, v in op.items() if k in ("name", "metadata")} | {"done": False}
        return deep_copy(op)  # type: ignore[no-any-return]

    def get(self, name: str) -> Json:
        if name not in self.ops:
            raise ApiError.not_found(f"Operation {name} not found.")
        view = self._view(name)
        if self.pending.get(name, 0) > 0:
            self.pending[name] -= 1
        return view

    def wait(self, name: str) -> Json:
        if name not in self.ops:
            raise ApiError.not_found(f"Operation {name} not found.")
        self.pending.pop(name, None)
        return deep_copy(self.ops[name])  # type: ignore[no-any-return]

    def delete(self, name: str) -> Json:
        if self.ops.pop(name, None) is None:
            raise ApiError.not_found(f"Operation {name} not found.")
        self.pending.pop(name, None)
        return {}

    def list(self, location: str, request: ApiRequest) -> Json:
        items = [self._view(n) for n in self.ops if n.startswith(location + "/operations/")]
        page, nxt = paginate(items, request)
        return page_body("operations", page, nxt)


def any_of(type_name: str, message: Json) -> Json:
    """A google.protobuf.Any in JSON form."""
    return {"@type": f"type.googleapis.com/{type_name}", **deep_copy(message)}


class IamPolicies:
    """getIamPolicy / setIamPolicy on any resource, with etag checks as IAM does."""

    def __init__(self) -> None:
        self.policies: dict[str, Json] = {}

    def get(self, resource: str) -> Json:
        policy = self.policies.get(resource)
        if policy is None:
            return {"version": 1, "etag": b64(b"\x00\x00\x00\x00\x00\x00\x00\x00")}
        return deep_copy(policy)  # type: ignore[no-any-return]

    def set(self, resource: str, body: Json) -> Json:
        policy: Json = deep_copy(body.get("policy", {}))
        current = self.get(resource)
        if policy.get("etag") and policy["etag"] != current["etag"]:
            raise ApiError.aborted(
                "There were concurrent policy changes. Please retry the whole read-modify-write with "
                "exponential backoff. The request's ETag did not match the current policy's ETag."
            )
        policy.setdefault("version", 1)
        policy.pop("etag", None)
        policy["etag"] = b64(hashlib.sha256(json.dumps([resource, policy, current["etag"]]).encode()).digest()[:8])
        self.policies[resource] = policy
        return deep_copy(policy)  # type: ignore[no-any-return]

    def drop(self, resource: str) -> None:
        self.policies.pop(resource, None)


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli), as Secret Manager checks payloads."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


def pick(obj: Json, keys: Iterable[str]) -> Json:
    return {k: obj[k] for k in keys if k in obj}


def apply_mask(target: Json, source: Json, paths: list[str]) -> None:
    """Copy the masked fields (dotted camelCase paths) from source into target."""
    for path in paths:
        parts = path.split(".")
        src: Any = source
        dst = target
        for part in parts[:-1]:
            src = src.get(part, {}) if isinstance(src, dict) else {}
            dst = dst.setdefault(part, {})
        last = parts[-1]
        if isinstance(src, dict) and last in src:
            dst[last] = deep_copy(src[last])
        else:
            dst.pop(last, None)


def parse_mask(raw: str) -> list[str]:
    return [".".join(camel(p) for p in part.strip().split(".")) for part in raw.split(",") if part.strip()]
