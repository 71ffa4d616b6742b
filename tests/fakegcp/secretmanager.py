"""Secret Manager v1: secrets, versions, IAM; global (projects/*/secrets) and regional forms."""

from __future__ import annotations

import re
from typing import Any

from fakegcp.errors import ApiError
from fakegcp.model import (
    ApiRequest,
    Clock,
    Handler,
    IamPolicies,
    Json,
    apply_mask,
    b64,
    b64decode,
    crc32c,
    deep_copy,
    etag_of,
    page_body,
    paginate,
    parse_mask,
    project_number,
)

_SECRET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_PARENT = re.compile(r"^projects/([^/]+)(/locations/([^/]+))?$")
MAX_PAYLOAD = 65536
_PATCHABLE = {
    "labels",
    "annotations",
    "topics",
    "expireTime",
    "ttl",
    "rotation",
    "versionAliases",
    "versionDestroyTtl",
    "customerManagedEncryption",
    "tags",
}


class SecretManager:
    """State of Secret Manager: secrets by canonical name (project number), with their versions."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.secrets: dict[str, Json] = {}
        self.versions: dict[str, list[Json]] = {}
        self.payloads: dict[str, bytes] = {}
        self.iam = IamPolicies()

    # -- seeding / inspection helpers for tests ----------------------------------------------
    def seed(
        self,
        project: str,
        secret_id: str,
        *values: str | bytes,
        labels: dict[str, str] | None = None,
        location: str | None = None,
    ) -> str:
        """Create a secret (automatic replication) with one version per value; returns its name."""
        parent = f"projects/{project}" + (f"/locations/{location}" if location else "")
        body: Json = {"labels": labels or {}}
        if not location:
            body["replication"] = {"automatic": {}}
        name = self._create(parent, secret_id, body)["name"]
        for value in values:
            self._add_version(name, value.encode() if isinstance(value, str) else value)
        return str(name)

    def value(self, secret: str, version: str = "latest") -> bytes:
        """The payload of a version (any state but DESTROYED), for assertions."""
        v = self._version(self._canonical(secret) + f"/versions/{version}")
        return self.payloads[v["name"]]

    def version_states(self, secret: str) -> dict[str, str]:
        return {v["name"].rsplit("/", 1)[1]: v["state"] for v in self.versions[self._secret(secret)["name"]]}

    # -- routing -----------------------------------------------------------------------------
    def handlers(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {
            "secrets.create": self.create,
            "secrets.get": self.get,
            "secrets.list": self.list,
            "secrets.patch": self.patch,
            "secrets.delete": self.delete,
            "secrets.addVersion": self.add_version,
            "secrets.getIamPolicy": lambda r: self.iam.get(self._secret(r.params["resource"])["name"]),
            "secrets.setIamPolicy": lambda r: self.iam.set(self._secret(r.params["resource"])["name"], r.body),
            "secrets.versions.get": lambda r: self._version(r.params["name"]),
            "secrets.versions.list": self.list_versions,
            "secrets.versions.access": self.access,
            "secrets.versions.enable": lambda r: self._set_state(r, "ENABLED"),
            "secrets.versions.disable": lambda r: self._set_state(r, "DISABLED"),
            "secrets.versions.destroy": lambda r: self._set_state(r, "DESTROYED"),
        }
        out: dict[str, Handler] = {}
        for suffix, handler in table.items():
            out[f"secretmanager.projects.{suffix}"] = handler
            out[f"secretmanager.projects.locations.{suffix}"] = handler
        return out

    # -- names -------------------------------------------------------------------------------
    @staticmethod
    def _canonical(name: str) -> str:
        parts = name.split("/")
        if len(parts) >= 2 and parts[0] == "projects":
            parts[1] = project_number(parts[1])
        return "/".join(parts)

    def _secret(self, name: str) -> Json:
        key = self._canonical(name)
        secret = self.secrets.get(key)
        if secret is None:
            raise ApiError.not_found(f"Secret [{key}] not found.")
        return secret

    def _version(self, name: str) -> Json:
        key = self._canonical(name)
        secret_name, _, version_id = key.rpartition("/versions/")
        secret = self._secret(secret_name)
        versions = self.versions[secret["name"]]
        if version_id == "latest":
            if not versions:
                raise ApiError.not_found(f"Secret Version [{key}] not found.")
            return versions[-1]
        alias = secret.get("versionAliases", {}).get(version_id)
        if alias is not None:
            version_id = str(alias)
        if not version_id.isdigit():
            raise ApiError.invalid_argument(
                f"Invalid resource field value in the request. Version [{version_id}] is not a valid version id."
            )
        for v in versions:
            if v["name"].endswith(f"/versions/{int(version_id)}"):
                return v
        raise ApiError.not_found(f"Secret Version [{key}] not found.")

    # -- secrets -----------------------------------------------------------------------------
    def create(self, request: ApiRequest) -> Json:
        return self._create(request.params["parent"], request.query.get("secretId", ""), request.body)

    def _create(self, parent: str, secret_id: str, body: Json) -> Json:
        m = _PARENT.match(parent)
        if not m:
            raise ApiError.invalid_argument(f"Invalid resource field value in the request: parent {parent}")
        if not secret_id:
            raise ApiError.invalid_argument("Secret ID is required.")
        if not _SECRET_ID.match(secret_id):
            raise ApiError.invalid_argument(
                "Secret ID must be 1 to 255 characters long and contain only letters, numbers, hyphens and "
                f"underscores: {secret_id}"
            )
        regional = m.group(2) is not None
        _check_labels(body.get("labels", {}))
        replication = body.get("replication")
        if regional and replication:
            raise ApiError.invalid_argument("Replication policy is not supported for regional secrets.")
        if not regional:
            _check_replication(replication)
        name = f"{self._canonical(parent)}/secrets/{secret_id}"
        if name in self.secrets:
            raise ApiError.already_exists(f"Secret [{name}] already exists.")
        secret: Json = {k: deep_copy(v) for k, v in body.items() if k not in ("name", "createTime", "etag")}
        secret.update(name=name, createTime=self.clock.now())
        secret.setdefault("labels", {})
        _touch(secret)
        self.secrets[name] = secret
        self.versions[name] = []
        return _secret_view(secret)

    def get(self, request: ApiRequest) -> Json:
        return _secret_view(self._secret(request.params["name"]))

    def list(self, request: ApiRequest) -> Json:
        parent = self._canonical(request.params["parent"])
        items = [s for n, s in sorted(self.secrets.items()) if n.startswith(parent + "/secrets/")]
        flt = request.query.get("filter", "")
        if flt:
            items = [s for s in items if _matches(s, flt)]
        page, nxt = paginate([_secret_view(s) for s in items], request, max_page_size=25000)
        return page_body("secrets", page, nxt, totalSize=len(items))

    def patch(self, request: ApiRequest) -> Json:
        secret = self._secret(request.params["name"])
        mask = parse_mask(request.query.get("updateMask", ""))
        if not mask:
            raise ApiError.invalid_argument("update_mask is required and must contain at least one path.")
        _check_etag(secret, request.body.get("etag"))
        for path in mask:
            if path.split(".")[0] not in _PATCHABLE:
                raise ApiError.invalid_argument(f"Invalid update_mask path: {path}")
        if "labels" in mask:
            _check_labels(request.body.get("labels", {}))
        apply_mask(secret, request.body, mask)
        secret.setdefault("labels", {})
        _touch(secret)
        return _secret_view(secret)

    def delete(self, request: ApiRequest) -> Json:
        secret = self._secret(request.params["name"])
        _check_etag(secret, request.query.get("etag"))
        name = secret["name"]
        for v in self.versions.pop(name):
            self.payloads.pop(v["name"], None)
        del self.secrets[name]
        self.iam.drop(name)
        return {}

    # -- versions ----------------------------------------------------------------------------
    def add_version(self, request: ApiRequest) -> Json:
        secret = self._secret(request.params["parent"])
        payload = request.body.get("payload") or {}
        data = b64decode(payload.get("data", ""))
        if len(data) > MAX_PAYLOAD:
            raise ApiError.invalid_argument(
                f"Secret Version payload is too large: {len(data)} bytes; the maximum is {MAX_PAYLOAD} bytes."
            )
        checksum = payload.get("dataCrc32c")
        if checksum is not None and int(checksum) != crc32c(data):
            raise ApiError.invalid_argument(
                "Checksum mismatch: the data_crc32c value provided does not match the payload data."
            )
        return self._add_version(secret["name"], data, checksum is not None)

    def _add_version(self, secret_name: str, data: bytes, checksummed: bool = False) -> Json:
        versions = self.versions[secret_name]
        number = 1 + max((int(v["name"].rsplit("/", 1)[1]) for v in versions), default=0)
        version: Json = {
            "name": f"{secret_name}/versions/{number}",
            "createTime": self.clock.now(),
            "state": "ENABLED",
            "replicationStatus": {"automatic": {}},
            "clientSpecifiedPayloadChecksum": checksummed,
        }
        _touch(version)
        versions.append(version)
        self.payloads[version["name"]] = data
        return deep_copy(version)  # type: ignore[no-any-return]

    def list_versions(self, request: ApiRequest) -> Json:
        secret = self._secret(request.params["parent"])
        items = list(reversed(self.versions[secret["name"]]))
        flt = request.query.get("filter", "")
        m = re.fullmatch(r"\s*state\s*[:=]\s*(\w+)\s*", flt)
        if m:
            items = [v for v in items if v["state"] == m.group(1).upper()]
        page, nxt = paginate(deep_copy(items), request, max_page_size=25000)
        return page_body("versions", page, nxt, totalSize=len(items))

    def access(self, request: ApiRequest) -> Json:
        version = self._version(request.params["name"])
        if version["state"] != "ENABLED":
            raise ApiError.failed_precondition(f"SecretVersion [{version['name']}] is in {version['state']} state.")
        data = self.payloads[version["name"]]
        return {"name": version["name"], "payload": {"data": b64(data), "dataCrc32c": str(crc32c(data))}}

    def _set_state(self, request: ApiRequest, state: str) -> Json:
        version = self._version(request.params["name"])
        _check_etag(version, request.body.get("etag"))
        if version["state"] == "DESTROYED" and state != "DESTROYED":
            raise ApiError.failed_precondition(
                f"SecretVersion [{version['name']}] is in DESTROYED state and cannot be modified."
            )
        if state == "DESTROYED" and version["state"] != "DESTROYED":
            version["destroyTime"] = self.clock.now()
            self.payloads.pop(version["name"], None)
        version["state"] = state
        _touch(version)
        return deep_copy(version)  # type: ignore[no-any-return]


def _touch(obj: Json) -> None:
    obj.pop("etag", None)
    obj["etag"] = f'"{etag_of(obj)}"'


def _secret_view(secret: Json) -> Json:
    return deep_copy(secret)  # type: ignore[no-any-return]


def _check_etag(obj: Json, etag: str | None) -> None:
    if etag and etag != obj["etag"]:
        raise ApiError.aborted(
            f"The etag provided in the request ({etag}) does not match the current etag of the resource "
            f"[{obj['name']}] ({obj['etag']})."
        )


def _check_labels(labels: dict[str, Any]) -> None:
    if len(labels) > 64:
        raise ApiError.invalid_argument("No more than 64 labels can be assigned to a given resource.")
    for key, value in labels.items():
        if not _LABEL_KEY.match(key):
            raise ApiError.invalid_argument(f"Invalid label key: {key!r}")
        if not _LABEL_VALUE.match(str(value)):
            raise ApiError.invalid_argument(f"Invalid label value for key {key!r}: {value!r}")


def _check_replication(replication: Json | None) -> None:
    if not replication or ("automatic" in replication) == ("userManaged" in replication):
        raise ApiError.invalid_argument(
            "Secret replication policy must specify exactly one of automatic or user_managed."
        )
    if "userManaged" in replication:
        replicas = replication["userManaged"].get("replicas", [])
        if not replicas or any(not r.get("location") for r in replicas):
            raise ApiError.invalid_argument(
                "User managed replication must have at least one replica, each with a location."
            )


_TERM = re.compile(r"^(?P<neg>-|NOT\s+)?(?P<field>[\w.\-]+)\s*(?P<op>[:=])\s*(?P<value>\S+)$")


def _matches(secret: Json, expression: str) -> bool:
    """Secret Manager's list filter, simple form: terms joined by AND / whitespace."""
    terms = [t for t in re.split(r"\s+AND\s+|\s+", expression.strip()) if t]
    for term in terms:
        m = _TERM.match(term)
        if not m:
            raise ApiError.invalid_argument(f"Invalid filter: {expression}")
        field, op, value = m.group("field"), m.group("op"), m.group("value").strip('"')
        ok = _term(secret, field, op, value)
        if bool(m.group("neg")) == ok:
            return False
    return True


def _term(secret: Json, field: str, op: str, value: str) -> bool:
    if field.startswith("labels."):
        key = field[len("labels.") :]
        labels = secret.get("labels", {})
        if key not in labels:
            return False
        return (
            value == "*"
            if op == ":" and value == "*"
            else (labels[key] == value if op == "=" else value in labels[key])
        )
    if field == "labels":
        return value in secret.get("labels", {})
    if field == "name":
        short = secret["name"].rsplit("/", 1)[1]
        return short == value if op == "=" else value in short
    if field == "create_time":
        return value in secret.get("createTime", "")
    raise ApiError.invalid_argument(f"Invalid filter field: {field}")
