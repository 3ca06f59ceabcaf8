"""Checks of what a request carries: slugs, job ids, tokens, offsets, JSON bodies.

Each check raises :class:`~web_bridge.errors.ApiError` with a status that says what
was wrong; identifiers that do not look right are simply not found (404).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from flask import request

from web_bridge.errors import ApiError

SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
JOB_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,128}={0,2}")
JOB_CODE_RE = re.compile(r"[A-Za-z0-9]{4,12}")
FINGERPRINT_RE = re.compile(r"[0-9a-f]{64}")
MAX_FILES = 1000


def slug(value: str) -> str:
    """A shop slug. Raises: ApiError 404 when malformed."""
    if not SLUG_RE.fullmatch(value):
        raise ApiError(404, "shop_not_found", "This shop was not found.")
    return value


def job_id(value: str) -> str:
    """A job id. Raises: ApiError 404 when malformed."""
    if not JOB_ID_RE.fullmatch(value):
        raise ApiError(404, "job_not_found", "This job was not found.")
    return value


def bearer_token(header: str | None = None) -> str:
    """The customer token of ``Authorization: Bearer`` (of ``header`` when given). Raises: ApiError 401."""
    if header is None:
        header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not TOKEN_RE.fullmatch(token):
        raise ApiError(401, "unauthorized", "This job is not available from this page.")
    return token


def non_negative_int(value: str | None, name: str) -> int:
    """A query parameter holding a non-negative decimal. Raises: ApiError 400."""
    if value is None or not value.isdigit() or len(value) > 18:
        raise ApiError(400, "bad_request", f"The '{name}' parameter must be a whole number.")
    return int(value)


def file_index(index: int) -> int:
    """A file index from the URL (the relay's is 32-bit). Raises: ApiError 400."""
    if not 0 <= index < MAX_FILES:
        raise ApiError(400, "bad_request", "There is no such file in a job.")
    return index


def json_object() -> dict[str, Any]:
    """The request body as a JSON object. Raises: ApiError 400 or 415."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "The request body must be JSON.")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # JSON nested thousands deep
        raise ApiError(400, "bad_request", "The request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The request body is not a JSON object.")
    return body


def file_sizes(value: Any) -> list[int]:
    """A list of 1..MAX_FILES non-negative integer sizes. Raises: ApiError 400."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_FILES:
        raise ApiError(400, "bad_request", "Choose at least one file.")
    sizes: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item < 2**62:
            raise ApiError(400, "bad_request", "A file size is not valid.")
        sizes.append(item)
    return sizes


def fingerprint(value: Any) -> bytes:
    """A SHA-256 key fingerprint in lowercase hex. Raises: ApiError 400."""
    if not isinstance(value, str) or not FINGERPRINT_RE.fullmatch(value):
        raise ApiError(400, "bad_request", "The key fingerprint is not valid.")
    return bytes.fromhex(value)


def b64url_bytes(value: Any, name: str) -> bytes:
    """Base64url (padding optional) decoded. Raises: ApiError 400."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", value):
        raise ApiError(400, "bad_request", f"'{name}' must be base64url.")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ApiError(400, "bad_request", f"'{name}' must be base64url.") from None
