"""Google API errors: gRPC status codes, their HTTP mapping and the JSON error shape."""

from __future__ import annotations

from typing import Any

GRPC_CODES: dict[str, int] = {
    "OK": 0,
    "CANCELLED": 1,
    "UNKNOWN": 2,
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9,
    "ABORTED": 10,
    "OUT_OF_RANGE": 11,
    "UNIMPLEMENTED": 12,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
    "DATA_LOSS": 15,
    "UNAUTHENTICATED": 16,
}
HTTP_STATUS: dict[str, int] = {
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}
_STATUS_FOR_HTTP: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_DEFAULT_MESSAGES: dict[int, str] = {
    429: "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
    504: "The request timed out.",
}


def status_for_http(code: int) -> str:
    """The canonical status name Google pairs with an HTTP code (for injected faults)."""
    return _STATUS_FOR_HTTP.get(code, "UNKNOWN")


class ApiError(Exception):
    """An error the fake answers with, in Google's shape."""

    def __init__(
        self,
        status: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        http_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.http_code = http_code if http_code is not None else HTTP_STATUS.get(status, 500)

    @property
    def grpc_code(self) -> int:
        return GRPC_CODES.get(self.status, 2)

    def to_json(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.http_code, "message": self.message, "status": self.status}
        if self.details:
            err["details"] = self.details
        return {"error": err}

    def to_rpc_status(self) -> dict[str, Any]:
        """The google.rpc.Status form, as found in a failed long-running Operation."""
        out: dict[str, Any] = {"code": self.grpc_code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out

    # Constructors for the common cases -------------------------------------------------
    @classmethod
    def invalid_argument(cls, message: str, field: str | None = None) -> ApiError:
        details = None
        if field is not None:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": field, "description": message}],
                }
            ]
        return cls("INVALID_ARGUMENT", message, details)

    @classmethod
    def not_found(cls, message: str) -> ApiError:
        return cls("NOT_FOUND", message)

    @classmethod
    def already_exists(cls, message: str) -> ApiError:
        return cls("ALREADY_EXISTS", message)

    @classmethod
    def failed_precondition(cls, message: str) -> ApiError:
        return cls("FAILED_PRECONDITION", message)

    @classmethod
    def aborted(cls, message: str) -> ApiError:
        return cls("ABORTED", message)

    @classmethod
    def unimplemented(cls, message: str) -> ApiError:
        return cls("UNIMPLEMENTED", message)

    @classmethod
    def injected(cls, http_code: int, message: str | None = None) -> ApiError:
        return cls(
            status_for_http(http_code),
            message or _DEFAULT_MESSAGES.get(http_code, "Injected fault."),
            http_code=http_code,
        )


def html_not_found(path: str) -> str:
    """The HTML page Google's front end serves for a URL that maps to no method."""
    return (
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
        "  <title>Error 404 (Not Found)!!1</title>\n"
        f"  <p><b>404.</b> <ins>That's an error.</ins>\n  <p>The requested URL <code>{path}</code> "
        "was not found on this server.  <ins>That's all we know.</ins>\n"
    )
