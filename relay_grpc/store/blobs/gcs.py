"""Google Cloud Storage blob store: one immutable object per append.

Object names: ``<prefix><key>/.<offset:020d>``. Each part is uploaded in one
multipart request with ``if_generation_match=0`` (create-only; GCS makes an
object visible only when its upload completes), so a ``kill -9`` mid-upload
leaves nothing behind and any replica can resume from the listed chain. No
resumable-upload session URL (which lives in one process) is ever needed.

Timeouts and the retry budget are short and configurable so an outage surfaces
as ``BlobStoreUnavailableError`` within seconds, not minutes.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import google_crc32c
import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from relay_grpc.store.blobs.base import (
    BlobNotFoundError,
    BlobStoreError,
    BlobStoreFullError,
    BlobStorePermissionError,
    BlobStoreUnavailableError,
    validate_prefix,
)
from relay_grpc.store.blobs.lifecycle import delete_rule, merge_delete_rule
from relay_grpc.store.blobs.parts import PartBlobStore, parse_part_name, part_name

log = logging.getLogger(__name__)

T = TypeVar("T")


def make_client(project: str | None = None) -> storage.Client:
    """Storage client: anonymous against ``STORAGE_EMULATOR_HOST``, else default credentials.

    Raises:
        BlobStorePermissionError: no default credentials could be found.
    """
    try:
        if os.environ.get("STORAGE_EMULATOR_HOST"):
            from google.auth.credentials import AnonymousCredentials

            return storage.Client(project=project or "test", credentials=AnonymousCredentials())
        return storage.Client(project=project)
    except auth_exceptions.DefaultCredentialsError as exc:
        raise BlobStorePermissionError(f"no Google Cloud credentials for the blob bucket: {exc}") from exc


def _translate(exc: Exception, what: str) -> BlobStoreError:
    """Map a client exception to the blob store error a caller can act on."""
    if isinstance(exc, api_exceptions.NotFound):
        return BlobNotFoundError(f"{what}: not found")
    if isinstance(exc, (api_exceptions.Forbidden, api_exceptions.Unauthorized)):
        return BlobStorePermissionError(f"{what}: permission denied by GCS ({exc.code})")
    if isinstance(exc, auth_exceptions.RefreshError):
        return BlobStorePermissionError(f"{what}: credentials rejected")
    if isinstance(exc, api_exceptions.TooManyRequests) and "quota" in str(exc).lower():
        return BlobStoreFullError(f"{what}: storage quota exceeded")
    return BlobStoreUnavailableError(f"{what}: GCS unavailable ({type(exc).__name__})")


_CLIENT_ERRORS = (
    api_exceptions.GoogleAPIError,
    auth_exceptions.GoogleAuthError,
    requests.exceptions.RequestException,
    ConnectionError,
    TimeoutError,
)


class GcsPartBackend:
    """``PartBackend`` on a GCS bucket (see module docstring)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client_factory: Callable[[], storage.Client] = make_client,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        retry_timeout: float = 10.0,
        pool_size: int = 8,
    ) -> None:
        if not bucket:
            raise ValueError("GCS bucket name is empty")
        validate_prefix(prefix)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.bucket_name = bucket
        self.prefix = prefix
        self._client_factory = client_factory
        self._timeout = (connect_timeout, read_timeout)
        self._retry = DEFAULT_RETRY.with_timeout(retry_timeout)
        self._pool_size = pool_size
        self._client: storage.Client | None = None
        self._bucket: storage.Bucket | None = None
        self._lock = threading.Lock()

    def _get_bucket(self) -> storage.Bucket:
        return self._connect()[1]

    def _connect(self) -> tuple[storage.Client, storage.Bucket]:
        # Built lazily, in a worker thread: ADC discovery may touch the network.
        with self._lock:
            if self._client is None or self._bucket is None:
                client = self._client_factory()
                # One pooled connection per worker thread instead of requests' default 10.
                adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=self._pool_size)
                client._http.mount("https://", adapter)
                client._http.mount("http://", adapter)
                self._client = client
                self._bucket = client.bucket(self.bucket_name)
            return self._client, self._bucket

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except BlobStoreError:
            raise
        except _CLIENT_ERRORS as exc:
            error = _translate(exc, what)
            log.debug("GCS %s failed: %r", what, exc)
            raise error from exc

    def _key_dir(self, key: str) -> str:
        return f"{self.prefix}{key}/"

    def _list(self, prefix: str) -> list[Any]:
        client, bucket = self._connect()
        return list(
            client.list_blobs(
                bucket,
                prefix=prefix,
                fields="items(name,size),nextPageToken",
                timeout=self._timeout,
                retry=self._retry,
            )
        )

    def list_parts(self, key: str) -> list[tuple[int, int]]:
        directory = self._key_dir(key)

        def run() -> list[tuple[int, int]]:
            parts = []
            for blob in self._list(directory + "."):
                offset = parse_part_name(blob.name[len(directory) :])
                if offset is not None:
                    parts.append((offset, int(blob.size or 0)))
            return parts

        return self._call("list parts", run)

    def create_part(self, key: str, offset: int, data: bytes) -> bool:
        blob = self._get_bucket().blob(self._key_dir(key) + part_name(offset))

        def run() -> bool:
            try:
                blob.upload_from_string(
                    data,
                    content_type="application/octet-stream",
                    if_generation_match=0,
                    checksum="crc32c",
                    timeout=self._timeout,
                    retry=self._retry,
                )
            except api_exceptions.PreconditionFailed:
                return False
            return True

        return self._call("upload part", run)

    def part_equals(self, key: str, offset: int, data: bytes) -> bool:
        def run() -> bool:
            blob = self._get_bucket().get_blob(
                self._key_dir(key) + part_name(offset), timeout=self._timeout, retry=self._retry
            )
            if blob is None or blob.size != len(data) or not blob.crc32c:
                return False
            digest = base64.b64encode(google_crc32c.Checksum(data).digest()).decode()
            return bool(blob.crc32c == digest)

        return self._call("check part", run)

    def read_part(self, key: str, offset: int, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        blob = self._get_bucket().blob(self._key_dir(key) + part_name(offset))

        def run() -> bytes:
            return bytes(
                blob.download_as_bytes(
                    start=start, end=start + length - 1, checksum=None, timeout=self._timeout, retry=self._retry
                )
            )

        try:
            return self._call("download part", run)
        except BlobNotFoundError:
            raise BlobNotFoundError(f"blob {key!r} not found") from None

    def delete_key(self, key: str) -> bool:
        directory = self._key_dir(key)

        def delete_one(blob: storage.Blob) -> bool:
            try:
                blob.delete(timeout=self._timeout, retry=self._retry)
            except api_exceptions.NotFound:
                return False
            return True

        def run() -> bool:
            parts = [
                blob for blob in self._list(directory + ".") if parse_part_name(blob.name[len(directory) :]) is not None
            ]
            if len(parts) <= 1:
                return bool(parts) and delete_one(parts[0])
            # One request per object (no batch API on the emulator): fan out.
            with ThreadPoolExecutor(max_workers=min(8, len(parts))) as pool:
                return any(list(pool.map(delete_one, parts)))

        return self._call("delete", run)

    def list_keys(self, prefix: str) -> list[str]:
        def run() -> list[str]:
            keys: set[str] = set()
            for blob in self._list(self.prefix + prefix):
                directory, _, name = blob.name.rpartition("/")
                if parse_part_name(name) is not None and directory.startswith(self.prefix):
                    keys.add(directory[len(self.prefix) :])
            return sorted(keys)

        return self._call("list keys", run)

    def check(self) -> None:
        def run() -> None:
            client, bucket = self._connect()
            iterator = client.list_blobs(
                bucket,
                prefix=self.prefix,
                max_results=1,
                fields="items(name)",
                timeout=self._timeout,
                retry=self._retry,
            )
            list(iterator)

        try:
            self._call("health check", run)
        except BlobNotFoundError:
            raise BlobStoreUnavailableError(f"GCS bucket {self.bucket_name!r} does not exist") from None

    def ensure_lifecycle(self, days: int) -> list[dict[str, Any]]:
        def run() -> list[dict[str, Any]]:
            bucket = self._get_bucket()
            bucket.reload(timeout=self._timeout, retry=self._retry)
            current = [dict(rule) for rule in bucket.lifecycle_rules]
            rules = merge_delete_rule(current, days, self.prefix)
            if rules is None:
                return current
            bucket.lifecycle_rules = rules
            bucket.patch(timeout=self._timeout, retry=self._retry)
            return rules

        return self._call("set lifecycle", run)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None
            self._bucket = None


class GcsBlobStore(PartBlobStore):
    """Blob store in a GCS bucket under an optional key prefix."""

    def __init__(self, backend: GcsPartBackend, *, max_workers: int = 8) -> None:
        self.backend = backend
        super().__init__(backend, max_workers=max_workers)

    @classmethod
    def from_env(
        cls,
        *,
        bucket: str,
        prefix: str = "",
        project: str | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        retry_timeout: float = 10.0,
        max_workers: int = 8,
    ) -> GcsBlobStore:
        """Store using ``make_client`` (emulator if STORAGE_EMULATOR_HOST is set).

        Raises:
            ValueError: empty bucket or invalid prefix.
        """
        backend = GcsPartBackend(
            bucket,
            prefix,
            client_factory=lambda: make_client(project),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retry_timeout=retry_timeout,
            pool_size=max_workers,
        )
        return cls(backend, max_workers=max_workers)

    async def ensure_lifecycle(self, days: int = 1) -> list[dict[str, Any]]:
        """Add (or update) a bucket rule deleting this prefix's objects after ``days``.

        A production backstop for uploads the relay's reaper never cleaned.
        Returns the rules sent. Needs ``storage.buckets.update``.

        Raises:
            ValueError: ``days`` < 1.
            BlobStorePermissionError: not allowed to change the bucket.
            BlobStoreUnavailableError: GCS unreachable or the bucket missing.
        """
        delete_rule(days, self.backend.prefix)  # validates days before any I/O
        try:
            return await self._run(self.backend.ensure_lifecycle, days)
        except BlobNotFoundError:
            raise BlobStoreUnavailableError(f"GCS bucket {self.backend.bucket_name!r} does not exist") from None
