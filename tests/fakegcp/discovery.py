"""Google's discovery documents: routing of REST paths to methods, and request validation.

The documents ship in the google-api-python-client wheel; they describe every REST method's
path, HTTP verb, parameters and JSON schemas, so the fake fails where Google would fail.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from fakegcp.enums import numbers_for
from fakegcp.errors import ApiError

API_DOCUMENTS: dict[str, str] = {
    "run": "run.v2.json",
    "secretmanager": "secretmanager.v1.json",
    "artifactregistry": "artifactregistry.v1.json",
    "logging": "logging.v2.json",
    "cloudbuild": "cloudbuild.v1.json",
    "storage": "storage.v1.json",
    "sqladmin": "sqladmin.v1.json",
}
# APIs of which only some resources are faked: the others' paths must stay 404, as for any unknown path.
API_RESOURCES: dict[str, tuple[str, ...]] = {"sqladmin": ("databases", "operations")}
API_HOSTS: dict[str, str] = {
    "run": "run.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
    "artifactregistry": "artifactregistry.googleapis.com",
    "logging": "logging.googleapis.com",
    "cloudbuild": "cloudbuild.googleapis.com",
    "storage": "storage.googleapis.com",
    "sqladmin": "sqladmin.googleapis.com",
}
_PARAM = re.compile(r"\{(\+?)([A-Za-z0-9_.]+)\}")
_DURATION = re.compile(r"^-?\d+(\.\d{1,9})?s$")
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
_INT_TYPES = {"int32": "TYPE_INT32", "uint32": "TYPE_UINT32", "int64": "TYPE_INT64", "uint64": "TYPE_UINT64"}


@dataclass(frozen=True)
class Method:
    """One REST method of one API, as its discovery document describes it."""

    api: str
    id: str
    http_method: str
    flat_path: str
    path: str
    parameters: dict[str, dict[str, Any]]
    request_ref: str | None
    response_ref: str | None
    flat_regex: re.Pattern[str] = field(compare=False)
    path_regex: re.Pattern[str] = field(compare=False)
    literal_weight: int = 0
    media: bool = False  # a media upload (raw bytes body) or a method that can answer raw bytes (alt=media)

    @property
    def is_mutating(self) -> bool:
        return self.http_method != "GET"


def _template_regex(template: str, reserved_greedy: bool) -> re.Pattern[str]:
    out: list[str] = []
    pos = 0
    for m in _PARAM.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        name = m.group(2).replace(".", "__")
        if m.group(1) and reserved_greedy:
            out.append(f"(?P<{name}>.+)")
        else:
            out.append(f"(?P<{name}>[^/]+)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


class Discovery:
    """All methods and schemas of the faked APIs."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {api: _load(name) for api, name in API_DOCUMENTS.items()}
        self.methods: list[Method] = []
        self.by_id: dict[str, Method] = {}
        for api, doc in self.docs.items():
            found = doc.get("resources", {})
            if api in API_RESOURCES:
                found = {k: v for k, v in found.items() if k in API_RESOURCES[api]}
            self._collect(api, found, doc.get("servicePath", ""))
        # More literal characters first: `.../services:exportX` must not shadow `.../services`.
        self.methods.sort(key=lambda m: -m.literal_weight)

    def _collect(self, api: str, resources_: dict[str, Any], service_path: str) -> None:
        for res in resources_.values():
            for m in res.get("methods", {}).values():
                # Storage's paths are relative to its servicePath ("storage/v1/"); Run's etc. have none.
                flat = service_path + m.get("flatPath", m["path"])
                upload = ((m.get("mediaUpload") or {}).get("protocols") or {}).get("simple")
                if upload:
                    # The simple media upload: the same method on the upload path, with the data as the body.
                    path = upload["path"].lstrip("/")
                    media = Method(
                        api=api,
                        id=m["id"],
                        http_method=m["httpMethod"],
                        flat_path=path,
                        path=path,
                        parameters=m.get("parameters", {}),
                        request_ref=None,
                        response_ref=m.get("response", {}).get("$ref"),
                        flat_regex=_template_regex(path, reserved_greedy=False),
                        path_regex=_template_regex(path, reserved_greedy=False),
                        literal_weight=len(_PARAM.sub("", path)),
                        media=True,
                    )
                    self.methods.append(media)
                method = Method(
                    api=api,
                    id=m["id"],
                    http_method=m["httpMethod"],
                    flat_path=flat,
                    path=service_path + m["path"],
                    parameters=m.get("parameters", {}),
                    request_ref=m.get("request", {}).get("$ref"),
                    response_ref=m.get("response", {}).get("$ref"),
                    flat_regex=_template_regex(flat, reserved_greedy=False),
                    path_regex=_template_regex(service_path + m["path"], reserved_greedy=True),
                    literal_weight=len(_PARAM.sub("", flat)),
                    media=bool(m.get("supportsMediaDownload")),
                )
                self.methods.append(method)
                self.by_id[method.id] = method
            self._collect(api, res.get("resources", {}), service_path)

    def route(self, http_method: str, path: str, host: str | None = None) -> tuple[Method, dict[str, str]] | None:
        """Find the method for `path` (no leading slash, no query); prefer the API named by host."""
        candidates: list[tuple[Method, dict[str, str]]] = []
        for m in self.methods:
            if m.http_method != http_method or not m.flat_regex.match(path):
                continue
            pm = m.path_regex.match(path)
            if pm is None:
                continue
            params = {k.replace("__", "."): v for k, v in pm.groupdict().items()}
            candidates.append((m, params))
        if not candidates:
            return None
        if host:
            bare = host.split(":")[0]
            for m, params in candidates:
                if API_HOSTS[m.api] == bare:
                    return m, params
        return candidates[0]

    def schema(self, api: str, ref: str) -> dict[str, Any]:
        return self.docs[api]["schemas"][ref]  # type: ignore[no-any-return]

    def global_parameters(self, api: str) -> dict[str, Any]:
        return self.docs[api].get("parameters", {})  # type: ignore[no-any-return]

    def validate_body(self, method: Method, body: Any) -> dict[str, Any]:
        """Validate and normalise a request body; returns it with enums as names and camelCase keys."""
        if method.request_ref is None:
            return {}
        if not isinstance(body, dict):
            raise ApiError.invalid_argument("Invalid JSON payload received. Expected an object.")
        root = _body_field_name(method.request_ref)
        return _Validator(self, method.api).object(method.request_ref, body, root)

    def validate_query(self, method: Method, query: dict[str, list[str]]) -> None:
        allowed = set(method.parameters) | set(self.global_parameters(method.api))
        for name, values in query.items():
            if name.startswith("$"):
                continue
            if name not in allowed:
                raise ApiError.invalid_argument(
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query parameter. '
                    f"Field '{name}' could not be found in request message."
                )
            spec = method.parameters.get(name) or self.global_parameters(method.api).get(name, {})
            for value in values:
                _check_query_value(name, spec, value)


def _check_query_value(name: str, spec: dict[str, Any], value: str) -> None:
    kind = spec.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        raise ApiError.invalid_argument(f"Invalid value at '{snake(name)}' (TYPE_INT32), \"{value}\"")
    if kind == "boolean" and value not in ("true", "false", "True", "False", "1", "0"):
        raise ApiError.invalid_argument(f"Invalid value at '{snake(name)}' (TYPE_BOOL), \"{value}\"")


def _body_field_name(ref: str) -> str:
    if ref.endswith("Request"):
        return ""
    for prefix in ("GoogleCloudRunV2", "GoogleDevtoolsArtifactregistryV1", "GoogleIamV1"):
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
    return snake(ref[:1].lower() + ref[1:])


def snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def _join(path: str, name: str) -> str:
    return f"{path}.{snake(name)}" if path else snake(name)


class _Validator:
    def __init__(self, discovery: Discovery, api: str) -> None:
        self.discovery = discovery
        self.api = api

    def object(self, ref: str, value: Any, path: str) -> dict[str, Any]:
        schema = self.discovery.schema(self.api, ref)
        if not isinstance(value, dict):
            raise _bad_value(path, f"type.googleapis.com/{ref}", value)
        props: dict[str, Any] = schema.get("properties", {})
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key if key in props else camel(key)
            if name not in props:
                at = f" at '{path}'" if path else ""
                raise ApiError.invalid_argument(
                    f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.',
                    field=path,
                )
            if item is None:
                continue
            out[name] = self.value(props[name], item, _join(path, name))
        return out

    def value(self, spec: dict[str, Any], value: Any, path: str) -> Any:
        if "$ref" in spec:
            return self.object(spec["$ref"], value, path)
        kind = spec.get("type")
        if kind == "any":
            return value
        if kind == "array":
            if not isinstance(value, list):
                raise _bad_value(path, "TYPE_MESSAGE", value)
            return [self.value(spec.get("items", {}), v, f"{path}[{i}]") for i, v in enumerate(value)]
        if kind == "object":
            if not isinstance(value, dict):
                raise _bad_value(path, "TYPE_MESSAGE", value)
            extra = spec.get("additionalProperties")
            if extra is None:
                return value
            return {str(k): self.value(extra, v, f"{path}[{k}]") for k, v in value.items()}
        if kind == "boolean":
            if not isinstance(value, bool):
                raise _bad_value(path, "TYPE_BOOL", value)
            return value
        if kind == "integer":
            return _integer(path, spec, value)
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise _bad_value(path, "TYPE_DOUBLE", value)
            try:
                return float(value)
            except ValueError as exc:
                raise _bad_value(path, "TYPE_DOUBLE", value) from exc
        if kind == "string":
            return _string(path, spec, value)
        return value


def _integer(path: str, spec: dict[str, Any], value: Any) -> int:
    label = _INT_TYPES.get(spec.get("format", "int32"), "TYPE_INT32")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _bad_value(path, label, value)
    if isinstance(value, str) and not re.fullmatch(r"-?\d+", value):
        raise _bad_value(path, label, value)
    return int(value)


def _string(path: str, spec: dict[str, Any], value: Any) -> Any:
    fmt = spec.get("format")
    enum: list[str] | None = spec.get("enum")
    if enum is not None:
        if isinstance(value, int) and not isinstance(value, bool):
            name = numbers_for(tuple(enum)).get(value)
            if name is not None:
                return name
            raise _bad_value(path, "TYPE_ENUM", value)
        if isinstance(value, str) and value in enum:
            return value
        raise _bad_value(path, "TYPE_ENUM", value)
    if fmt in ("int64", "uint64"):
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not re.fullmatch(r"-?\d+", str(value)):
            raise _bad_value(path, _INT_TYPES[fmt], value)
        return str(int(value))
    if not isinstance(value, str):
        raise _bad_value(path, "TYPE_STRING", value)
    if fmt == "byte":
        try:
            base64.b64decode(value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError.invalid_argument(
                f"Invalid value at '{path}' (TYPE_BYTES), Base64 decoding failed for \"{value[:40]}\"",
                field=path,
            ) from exc
    elif fmt == "google-duration" and not _DURATION.match(value):
        raise ApiError.invalid_argument(
            f"Invalid value at '{path}' (type.googleapis.com/google.protobuf.Duration), Field '{path}', "
            f"Illegal duration format; duration must end with 's'",
            field=path,
        )
    elif fmt == "google-datetime" and not _DATETIME.match(value):
        raise _bad_value(path, "type.googleapis.com/google.protobuf.Timestamp", value)
    return value


def _bad_value(path: str, label: str, value: Any) -> ApiError:
    shown = json.dumps(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else value
    return ApiError.invalid_argument(f"Invalid value at '{path}' ({label}), {shown}", field=path)


def _load(name: str) -> dict[str, Any]:
    ref = resources.files("googleapiclient").joinpath("discovery_cache", "documents", name)
    return json.loads(ref.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def discovery() -> Discovery:
    """The process-wide (immutable) discovery index."""
    return Discovery()
