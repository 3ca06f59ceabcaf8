"""Limits: job creation per client IP (flask-limiter), and sizes from the shop profile.

The rate limit's storage is pluggable through ``RATELIMIT_STORAGE_URI`` (``memory://``
by default; ``redis://…`` or ``memcached://…`` when several bridge processes must share
counts). Size limits are checked before a job is created, so an oversized job costs the
relay nothing; the relay checks them again on its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask, Response, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from web_bridge.errors import ApiError

LIMITER_KEY = "cloudtab_limiter"
LIMITED_ENDPOINTS = ("api.create_job",)


@dataclass(frozen=True)
class SizeLimits:
    """A shop's upload limits, in ciphertext bytes (0 means no limit)."""

    max_file_bytes: int
    max_job_bytes: int
    max_files_per_job: int


def _mb(size: int) -> str:
    # Decimal megabytes, as phones show file sizes (and as the page words it).
    return f"{size / 1_000_000:.1f} MB"


def check_job_sizes(limits: SizeLimits, file_sizes: Sequence[int]) -> None:
    """Refuse a job whose files exceed ``limits``.

    Raises:
        ApiError: 413 naming the first limit passed (file index for per-file sizes).
    """
    if limits.max_files_per_job and len(file_sizes) > limits.max_files_per_job:
        raise ApiError(
            413,
            "too_many_files",
            f"This shop accepts at most {limits.max_files_per_job} files per job.",
            limit=limits.max_files_per_job,
        )
    for index, size in enumerate(file_sizes):
        if limits.max_file_bytes and size > limits.max_file_bytes:
            raise ApiError(
                413,
                "file_too_large",
                f"File {index + 1} is too large: this shop accepts files up to {_mb(limits.max_file_bytes)}.",
                file_index=index,
                limit=limits.max_file_bytes,
            )
    if limits.max_job_bytes and sum(file_sizes) > limits.max_job_bytes:
        raise ApiError(
            413,
            "job_too_large",
            f"These files are too large together: this shop accepts up to {_mb(limits.max_job_bytes)} per job.",
            limit=limits.max_job_bytes,
        )


class ShopCache:
    """A small time-bounded cache of shop limits, so size checks do not cost a call."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, SizeLimits]] = {}

    def get(self, slug: str) -> SizeLimits | None:
        """The cached limits of ``slug``, or None when absent or stale."""
        with self._lock:
            entry = self._entries.get(slug)
        if entry is None or time.monotonic() - entry[0] > self.seconds:
            return None
        return entry[1]

    def put(self, slug: str, limits: SizeLimits) -> None:
        """Remember ``limits`` for ``slug``."""
        with self._lock:
            if len(self._entries) > 1000:
                self._entries.clear()
            self._entries[slug] = (time.monotonic(), limits)


def shop_cache() -> ShopCache:
    """The current application's shop cache."""
    cache: ShopCache = current_app.extensions["cloudtab_shop_cache"]
    return cache


def _job_create_limit() -> str:
    return str(current_app.config["JOB_CREATE_LIMIT"])


def _reached_relay(response: Response) -> bool:
    """Only requests the bridge passed on count: a refused one (400, 401, 413, 415...) costs nothing."""
    return not 400 <= response.status_code < 500


def init_app(app: Flask) -> None:
    """Create this app's limiter and rate-limit job creation.

    Call after the blueprints are registered (it wraps their view functions).

    Raises:
        KeyError: if a limited endpoint is not registered.
    """
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=str(app.config["RATELIMIT_STORAGE_URI"]),
        headers_enabled=True,
        default_limits=[],
    )
    for endpoint in LIMITED_ENDPOINTS:
        view = app.view_functions[endpoint]
        limited = limiter.limit(_job_create_limit, methods=["POST"], deduct_when=_reached_relay)(view)
        app.view_functions[endpoint] = limited  # type: ignore[assignment]
    app.extensions[LIMITER_KEY] = limiter
    app.extensions["cloudtab_shop_cache"] = ShopCache(float(app.config["SHOP_CACHE_SECONDS"]))
