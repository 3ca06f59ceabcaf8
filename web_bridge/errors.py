"""Errors as JSON (API) or a plain page, and relay statuses in a customer's words.

Every API error body is ``{"error": <machine code>, "message": <sentence for a
customer>, ...extra}``. :func:`describe_relay_error` is the pure mapping from a relay
status to an HTTP status and those words, tested directly.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import grpc
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from web_bridge.relay_client import RelayCallError

logger = logging.getLogger(__name__)

TRY_AGAIN = "The print service cannot be reached right now. Please try again in a moment."


class ApiError(Exception):
    """An error answered as JSON: HTTP ``status``, machine ``error``, human ``message``."""

    def __init__(
        self, status: int, error: str, message: str, **extra: Any
    ) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message
        self.extra = extra


_OFFSET_RE = re.compile(r"(\d+)")

HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthorized", "This job is not available from this page."),
    404: ("not_found", "This page does not exist."),
    405: ("method_not_allowed", "This action is not allowed here."),
    411: ("length_required", "The upload needs a Content-Length."),
    413: ("too_large", "This upload is too large."),
    415: ("unsupported_media_type", "This kind of request body is not accepted."),
    429: (
        "too_many_requests",
        "Too many new jobs from your network. Please wait a minute and try again.",
    ),
}


def describe_relay_error(operation: str, code: grpc.StatusCode, details: str) -> ApiError:
    """Map a relay failure of ``operation`` (an RPC name) to an :class:`ApiError`."""
    lowered = details.lower()
    if code == grpc.StatusCode.NOT_FOUND:
        if operation == "GetShop" or (operation == "CreateJob" and "shop" in lowered):
            return ApiError(404, "shop_not_found", "This shop was not found.")
        return ApiError(404, "job_not_found", "This job was not found.")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return ApiError(
            401, "unauthorized",
            "This job is not available any more from this page (it may have been "
            "removed, or the page was opened in another tab).",
        )
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return ApiError(403, "forbidden", "This job belongs to someone else.")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        if any(word in lowered for word in ("rate", "too many", "too fast", "slow down")):
            return ApiError(
                429, "too_many_requests",
                "Too many new jobs right now. Please wait a minute and try again.",
            )
        return ApiError(
            413, "too_large", "The files are larger than this shop accepts."
        )
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        if "expire" in lowered:
            return ApiError(410, "expired", "This job has expired and was deleted.")
        if operation == "UploadFile" and "offset" in lowered:
            match = _OFFSET_RE.search(details)
            extra = {"committed_offset": int(match.group(1))} if match else {}
            return ApiError(
                409, "offset_mismatch", "The upload continues from where it stopped.",
                **extra,
            )
        if operation == "CreateJob":
            return ApiError(
                409, "key_changed",
                "The shop's key has changed. Reload the page and compare the "
                "fingerprint with the one on the shop's screen.",
            )
        if operation == "SubmitJob":
            return ApiError(409, "incomplete", "Some files are not completely uploaded yet.")
        if operation == "CancelJob":
            return ApiError(409, "already_finished", "This job is already finished.")
        return ApiError(409, "job_closed", "This job can no longer be changed.")
    if code == grpc.StatusCode.OUT_OF_RANGE:
        return ApiError(400, "no_such_file", "This job has no such file.")
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return ApiError(400, "invalid", "The request was not accepted by the print service.")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return ApiError(504, "timeout", TRY_AGAIN)
    if code == grpc.StatusCode.UNAVAILABLE:
        return ApiError(503, "unavailable", TRY_AGAIN)
    return ApiError(502, "relay_error", "The print service had a problem. Please try again.")


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def api_error_response(error: ApiError) -> Response:
    """The JSON response for ``error``."""
    body = {"error": error.error, "message": error.message, **error.extra}
    response = jsonify(body)
    response.status_code = error.status
    return response


def _respond(error: ApiError) -> Response | tuple[str, int]:
    if _wants_json():
        return api_error_response(error)
    return render_template("error.html", error=error), error.status


def _handle_api_error(error: ApiError) -> Response | tuple[str, int]:
    return _respond(error)


def _handle_relay_error(error: RelayCallError) -> Response | tuple[str, int]:
    return _respond(describe_relay_error(error.operation, error.code, error.details))


def _handle_http(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    code, message = HTTP_MESSAGES.get(status, ("error", error.description or "Error."))
    # Retry-After on 429 is added by flask-limiter's own response hook.
    return _respond(ApiError(status, code, message))


def _handle_unexpected(error: Exception) -> Response | tuple[str, int]:
    logger.exception("unexpected error in %s %s", request.method, request.endpoint)
    return _respond(ApiError(500, "internal", "Something went wrong on our side."))


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(RelayCallError, _handle_relay_error)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
