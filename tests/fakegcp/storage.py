"""Cloud Storage JSON API v1: objects (simple media upload, metadata and media download with Range).

Only what remote builds need: the staging bucket's sources and the build logs Cloud Build writes there.
Buckets are seeded (`add_bucket`), as Terraform creates them.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from dataclasses import dataclass
from urllib.parse import unquote

from fakegcp.errors import ApiError
from fakegcp.model import ApiRequest, ApiResponse, Clock, Handler, Json

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass
class StoredObject:
    data: bytes
    generation: int
    updated: str
    content_type: str = "application/octet-stream"


class Storage:
    """Buckets (by name) and their objects."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.buckets: dict[str, Json] = {}
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self._generation = 1000
        # Appends come from build threads while requests read: one lock for the object table.
        self._lock = threading.Lock()

    def add_bucket(self, name: str, **fields: object) -> Json:
        bucket: Json = {"kind": "storage#bucket", "name": name, "id": name, **fields}
        self.buckets[name] = bucket
        return bucket

    def put(self, bucket: str, name: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        with self._lock:
            self._generation += 1
            obj = StoredObject(data, self._generation, self.clock.now(), content_type)
            self.objects[(bucket, name)] = obj
            return obj

    def append(self, bucket: str, name: str, data: bytes) -> None:
        """Grow an object (Cloud Build writes its log object as the build goes)."""
        with self._lock:
            current = self.objects.get((bucket, name))
            self._generation += 1
            self.objects[(bucket, name)] = StoredObject(
                (current.data if current else b"") + data, self._generation, self.clock.now(), "text/plain"
            )

    def read(self, bucket: str, name: str) -> bytes | None:
        with self._lock:
            obj = self.objects.get((bucket, name))
            return obj.data if obj else None

    def handlers(self) -> dict[str, Handler]:
        return {"storage.objects.insert": self.insert, "storage.objects.get": self.get}

    def _bucket(self, name: str) -> Json:
        bucket = self.buckets.get(name)
        if bucket is None:
            raise ApiError.not_found("The specified bucket does not exist.")
        return bucket

    def _resource(self, bucket: str, name: str, obj: StoredObject) -> Json:
        return {
            "kind": "storage#object",
            "id": f"{bucket}/{name}/{obj.generation}",
            "name": name,
            "bucket": bucket,
            "generation": str(obj.generation),
            "size": str(len(obj.data)),
            "contentType": obj.content_type,
            "updated": obj.updated,
            "md5Hash": base64.b64encode(hashlib.md5(obj.data).digest()).decode(),
        }

    def insert(self, request: ApiRequest) -> Json:
        bucket = request.params["bucket"]
        self._bucket(bucket)
        if request.query.get("uploadType") != "media":
            raise ApiError.invalid_argument("fakegcp implements only uploadType=media")
        name = request.query.get("name", "")
        if not name:
            raise ApiError.invalid_argument("Required parameter: name")
        with self._lock:
            existing = self.objects.get((bucket, name))
        match = request.query.get("ifGenerationMatch")
        if match is not None and int(match) != (existing.generation if existing else 0):
            raise ApiError(
                "FAILED_PRECONDITION", "At least one of the pre-conditions you specified did not hold.", http_code=412
            )
        content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
        obj = self.put(bucket, name, request.raw, content_type or "application/octet-stream")
        return self._resource(bucket, name, obj)

    def get(self, request: ApiRequest) -> Json | ApiResponse:
        # Object names travel with "/" as %2F, which the dispatcher keeps encoded (for Artifact Registry).
        bucket, name = request.params["bucket"], unquote(request.params["object"])
        self._bucket(bucket)
        with self._lock:
            obj = self.objects.get((bucket, name))
        if obj is None:
            raise ApiError.not_found(f"No such object: {bucket}/{name}")
        if request.query.get("alt") != "media":
            return self._resource(bucket, name, obj)
        headers = {"Content-Type": obj.content_type, "x-goog-generation": str(obj.generation)}
        wanted = next((v for k, v in request.headers.items() if k.lower() == "range"), "")
        m = _RANGE.match(wanted)
        if not m:
            return ApiResponse(200, raw=obj.data, headers=headers)
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else len(obj.data) - 1
        if start >= len(obj.data):
            return ApiResponse(416, raw=b"", headers=headers)
        part = obj.data[start : end + 1]
        headers["Content-Range"] = f"bytes {start}-{start + len(part) - 1}/{len(obj.data)}"
        return ApiResponse(206, raw=part, headers=headers)
