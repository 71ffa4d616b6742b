"""fakegcp: a stateful in-memory fake of the Cloud Run v2, Secret Manager v1 and Artifact Registry v1
REST APIs, with two front doors (responses callbacks, an HTTP server) and fault injection."""

from __future__ import annotations

from fakegcp.control import FakeControl
from fakegcp.errors import ApiError
from fakegcp.fake import Call, DroppedResponse, FakeGCP
from fakegcp.server import FakeGCPServer

__all__ = ["ApiError", "Call", "DroppedResponse", "FakeControl", "FakeGCP", "FakeGCPServer"]
