"""Errors as JSON (API) or a plain page, and relay statuses in a customer's words.

Every API error body is ``{"error": <machine code>, "message": <sentence for a
customer>, ...extra}``. :func:`describe_relay_error` is the pure mapping from a relay
error reason (``cloudtab_rpc.reasons``) to an HTTP status, code and those words.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from cloudtab_rpc.reasons import Reason
from web_bridge.relay_client import RelayCallError

logger = logging.getLogger(__name__)

TRY_AGAIN = "The print service cannot be reached right now. Please try again in a moment."


class ApiError(Exception):
    """An error answered as JSON: HTTP ``status``, machine ``error``, human ``message``."""

    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message
        self.extra = extra


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


UNFINISHED = "This job is already finished."

# Every relay reason -> (HTTP status, JSON error code, words for the customer).
# Reasons a customer call cannot meet (shop-only ones) still have a row: the table
# is total, tests/contract checks it against cloudtab_rpc.reasons.
REASON_ERRORS: dict[Reason, tuple[int, str, str]] = {
    Reason.INVALID_REQUEST: (400, "invalid", "The request was not accepted by the print service."),
    Reason.REJECT_REASON_UNKNOWN: (502, "relay_error", "The print service had a problem. Please try again."),
    Reason.LIMIT_EXCEEDED: (413, "too_large", "The files are larger than this shop accepts."),
    Reason.PAST_DECLARED_SIZE: (413, "past_declared_size", "This file is larger than it was when the job was created."),
    Reason.RATE_LIMITED: (429, "too_many_requests", "Too many new jobs right now. Please wait a minute and try again."),
    Reason.STORAGE_FULL: (503, "storage_full", "The print service is full right now. Please try again later."),
    Reason.SHOP_NOT_FOUND: (404, "shop_not_found", "This shop was not found."),
    Reason.JOB_NOT_FOUND: (404, "job_not_found", "This job was not found."),
    Reason.FILE_DATA_MISSING: (502, "relay_error", "The print service had a problem. Please try again."),
    Reason.KEY_CHANGED: (
        409,
        "key_changed",
        ("The shop's key has changed. Reload the page and compare the fingerprint with the one on the shop's screen."),
    ),
    Reason.KIOSK_TOO_OLD: (502, "relay_error", "The print service had a problem. Please try again."),
    Reason.OFFSET_MISMATCH: (409, "offset_mismatch", "The upload continues from where it stopped."),
    Reason.FILES_INCOMPLETE: (409, "incomplete", "Some files are not completely uploaded yet."),
    Reason.JOB_EXPIRED: (410, "expired", "This job has expired and was deleted."),
    Reason.JOB_TERMINAL: (409, "already_finished", UNFINISHED),
    Reason.JOB_STATE_CONFLICT: (409, "job_closed", "This job was already sent; it can no longer be changed."),
    Reason.NO_SUCH_FILE: (400, "no_such_file", "This job has no such file."),
    Reason.OFFSET_OUT_OF_RANGE: (400, "invalid", "The request was not accepted by the print service."),
    Reason.TOKEN_INVALID: (
        401,
        "unauthorized",
        (
            "This job is not available any more from this page (it may have been removed, or "
            "the page was opened in another tab)."
        ),
    ),
    Reason.ENROLLMENT_CODE_INVALID: (502, "relay_error", "The print service had a problem. Please try again."),
    Reason.UPLOAD_IDLE: (504, "timeout", TRY_AGAIN),
    Reason.BACKEND_UNAVAILABLE: (503, "unavailable", TRY_AGAIN),
    Reason.SHUTTING_DOWN: (503, "unavailable", TRY_AGAIN),
    Reason.INTERNAL: (502, "relay_error", "The print service had a problem. Please try again."),
}
# Metadata the page gets as numbers in the JSON body, per reason.
REASON_NUMBERS: dict[Reason, tuple[str, ...]] = {
    Reason.OFFSET_MISMATCH: ("committed_offset",),
    Reason.LIMIT_EXCEEDED: ("max",),
}


def describe_relay_error(error: RelayCallError) -> ApiError:
    """The :class:`ApiError` for a failed relay call: by its reason, never its words.

    A failure without a reason (the relay was not reached, or our own deadline
    passed) is judged by its status code: 503, 504, or 502 for anything else.
    """
    if error.reason is not None:
        status, code, message = REASON_ERRORS[error.reason]
        extra = {
            key: int(error.metadata[key])
            for key in REASON_NUMBERS.get(error.reason, ())
            if error.metadata.get(key, "").isdigit()
        }
        return ApiError(status, code, message, **extra)
    if error.code == grpc.StatusCode.UNAVAILABLE:
        return ApiError(503, "unavailable", TRY_AGAIN)
    if error.code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return ApiError(504, "timeout", TRY_AGAIN)
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
    return _respond(describe_relay_error(error))


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
