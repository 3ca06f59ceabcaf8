"""Domain errors of the relay, each named after the gRPC status it becomes.

Domain modules raise these; ``relay_grpc.interceptors`` maps them to status codes,
so servicers hold no try/except. The message is shown to the client: never put a
token, key or document byte in it.
"""

from __future__ import annotations


class RelayError(Exception):
    """Base class; ``status`` names the grpc.StatusCode member it maps to."""

    status = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(RelayError):
    """The request is malformed (INVALID_ARGUMENT)."""

    status = "INVALID_ARGUMENT"


class NotFound(RelayError):
    """The named object does not exist or is not visible to the caller (NOT_FOUND)."""

    status = "NOT_FOUND"


class FailedPrecondition(RelayError):
    """The object is not in a state that allows the operation (FAILED_PRECONDITION)."""

    status = "FAILED_PRECONDITION"


class ResourceExhausted(RelayError):
    """A size, count or rate limit was passed (RESOURCE_EXHAUSTED)."""

    status = "RESOURCE_EXHAUSTED"


class Unauthenticated(RelayError):
    """Missing, malformed, unknown, revoked or foreign token (UNAUTHENTICATED)."""

    status = "UNAUTHENTICATED"


class PermissionDenied(RelayError):
    """Authenticated but not allowed (PERMISSION_DENIED)."""

    status = "PERMISSION_DENIED"


class OutOfRange(RelayError):
    """An index or offset beyond the object (OUT_OF_RANGE)."""

    status = "OUT_OF_RANGE"


class Unavailable(RelayError):
    """A backend is unreachable or the relay is shutting down; retry (UNAVAILABLE)."""

    status = "UNAVAILABLE"


class DeadlineExceeded(RelayError):
    """The client stayed idle too long (DEADLINE_EXCEEDED)."""

    status = "DEADLINE_EXCEEDED"
