"""Blob store interface, key rules and errors shared by every implementation.

A blob is an append-only byte sequence named by a key such as
``jobs/<job_id>/<file_index>``. Appends are offset-checked (the caller states the
size it believes is committed), durable on return, and atomic: a crash never
leaves a half-written append visible. This package imports no grpc; the relay
maps the errors below to status codes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

__all__ = [
    "BlobNotFoundError",
    "BlobStore",
    "BlobStoreError",
    "BlobStoreFullError",
    "BlobStorePermissionError",
    "BlobStoreUnavailableError",
    "OffsetMismatchError",
    "validate_key",
    "validate_prefix",
]


class BlobStoreError(Exception):
    """Base class of every blob store error."""


class OffsetMismatchError(BlobStoreError):
    """An append's offset is not the committed size; ``committed`` is the real size."""

    def __init__(self, key: str, offset: int, committed: int) -> None:
        super().__init__(f"append to {key!r} at offset {offset}, committed size is {committed}")
        self.key = key
        self.offset = offset
        self.committed = committed


class BlobNotFoundError(BlobStoreError):
    """The blob does not exist (nothing was ever appended, or it was deleted)."""


class BlobStoreUnavailableError(BlobStoreError):
    """The backend cannot be reached right now (network, emulator down); retry later."""


class BlobStoreFullError(BlobStoreError):
    """No space left on the device or bucket quota exhausted."""


class BlobStorePermissionError(BlobStoreError):
    """The store may not read or write its folder or bucket (EACCES, 403)."""


_SEGMENT = re.compile(r"^[A-Za-z0-9_=-][A-Za-z0-9_.=-]*$")
MAX_KEY_LENGTH = 512


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key, e.g. ``jobs/<job_id>/<file_index>``.

    Segments are separated by "/", non-empty, made of ``[A-Za-z0-9_.=-]`` and never
    start with "." (so no "." / ".." and no clash with part or temp file names).

    Raises:
        ValueError: the key is empty, absolute, too long or has an unsafe segment.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("blob key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"blob key longer than {MAX_KEY_LENGTH} characters")
    for segment in key.split("/"):
        if not _SEGMENT.match(segment):
            raise ValueError(f"invalid blob key {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is "" or a valid key optionally ending with "/".

    Raises:
        ValueError: the prefix is not a safe relative key prefix.
    """
    if prefix == "":
        return prefix
    validate_key(prefix.removesuffix("/"))
    return prefix


@runtime_checkable
class BlobStore(Protocol):
    """Append-only, offset-checked, durable blob storage (local folder or GCS).

    Every method may also raise ``BlobStoreUnavailableError`` (backend unreachable),
    ``BlobStorePermissionError`` and, for writes, ``BlobStoreFullError``; and
    ``ValueError`` for an invalid key or negative offset/length.
    """

    async def append(self, key: str, offset: int, data: bytes) -> int:
        """Append ``data`` at ``offset`` and return the new committed size.

        ``offset`` must equal the committed size. The data is durable when this
        returns. Of two concurrent appends at the same offset, one wins and the
        other raises. An empty ``data`` appends nothing and returns the size.

        Raises:
            OffsetMismatchError: ``offset`` is not the committed size (see ``.committed``).
        """
        ...

    async def size(self, key: str) -> int:
        """Committed size of ``key``; 0 if it does not exist."""
        ...

    async def read(self, key: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset`` (fewer at the end, b"" past it).

        Raises:
            BlobNotFoundError: the key does not exist.
        """
        ...

    def iter_chunks(self, key: str, offset: int = 0, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        """Stream the committed bytes from ``offset`` in chunks of at most ``chunk_size``.

        Memory stays bounded by a small multiple of ``chunk_size``.

        Raises:
            BlobNotFoundError: the key does not exist (raised on first iteration).
        """
        ...

    async def delete(self, key: str) -> None:
        """Delete ``key``; deleting a missing key is not an error."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix``; return how many keys were removed."""
        ...

    async def list_keys(self, prefix: str = "") -> list[str]:
        """Sorted keys that start with ``prefix``."""
        ...

    async def check(self) -> None:
        """Health probe: cheap round trip to the backend.

        Raises:
            BlobStoreUnavailableError: the backend cannot be reached.
            BlobStorePermissionError: the folder or bucket is not usable.
        """
        ...

    async def close(self) -> None:
        """Release clients and thread resources; the store is unusable afterwards."""
        ...
