"""File record stream: seal and open one file in 64 KiB AES-256-GCM records.

File i of a job is sealed under key_i = HKDF-SHA256(ikm=K, salt=empty,
info="cloudtab/v1 file:" + decimal i, length=32). Its plaintext is cut into
RECORD_SIZE records (the last holds 0..RECORD_SIZE bytes; an empty file is one
empty final record; a non-empty file never ends with an empty record). Record n
is AES-256-GCM under key_i with nonce = n as 11 bytes big-endian followed by
0x01 for the final record and 0x00 otherwise, and no associated data.

Opening works record by record; memory holds at most two records. Records are
only yielded once authenticated, but a stream may still fail later (truncation,
digest mismatch), so callers MUST discard everything on an exception.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from envelope.errors import (
    DigestMismatchError,
    TamperedError,
    TrailingDataError,
    TruncatedError,
)

RECORD_SIZE = 65536
TAG_SIZE = 16
SEALED_RECORD_SIZE = RECORD_SIZE + TAG_SIZE
KEY_SIZE = 32
FILE_INFO_PREFIX = b"cloudtab/v1 file:"
_MAX_COUNTER = 1 << 88


def file_key(content_key: bytes, index: int) -> bytes:
    """Derive key_i for file ``index`` (0-based, manifest order) from K.

    Raises:
        ValueError: K is not 32 bytes or the index is negative.
    """
    if len(content_key) != KEY_SIZE:
        raise ValueError("content key must be 32 bytes")
    if index < 0:
        raise ValueError("file index must be >= 0")
    info = FILE_INFO_PREFIX + str(index).encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None, info=info).derive(content_key)


def record_count(plaintext_size: int) -> int:
    """Number of records for a plaintext of this size (an empty file has one)."""
    if plaintext_size < 0:
        raise ValueError("size must be >= 0")
    return max(1, -(-plaintext_size // RECORD_SIZE))


def ciphertext_size(plaintext_size: int) -> int:
    """Exact sealed size of a file of ``plaintext_size`` bytes.

    Raises:
        ValueError: negative size.
    """
    return plaintext_size + TAG_SIZE * record_count(plaintext_size)


def plaintext_size(sealed_size: int) -> int:
    """Inverse of :func:`ciphertext_size`.

    Raises:
        TruncatedError: no plaintext size produces this ciphertext size.
    """
    if sealed_size < TAG_SIZE:
        raise TruncatedError("ciphertext shorter than one record")
    full, rest = divmod(sealed_size, SEALED_RECORD_SIZE)
    if rest == 0:
        return full * RECORD_SIZE
    if rest < TAG_SIZE or (rest == TAG_SIZE and full > 0):
        raise TruncatedError("ciphertext length is not a whole number of records")
    return full * RECORD_SIZE + rest - TAG_SIZE


def record_nonce(index: int, final: bool) -> bytes:
    """The 12-byte nonce of record ``index``."""
    if not 0 <= index < _MAX_COUNTER:
        raise ValueError("record counter out of range")
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def seal_record(aead: AESGCM, index: int, final: bool, plaintext: bytes) -> bytes:
    """Seal one record (``plaintext`` at most RECORD_SIZE bytes)."""
    return aead.encrypt(record_nonce(index, final), plaintext, None)


def _read_full(src: BinaryIO, size: int) -> bytes:
    """Read up to ``size`` bytes, looping over short reads; less only at EOF."""
    parts: list[bytes] = []
    missing = size
    while missing > 0:
        chunk = src.read(missing)
        if not chunk:
            break
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)


def seal_records(key: bytes, src: BinaryIO) -> Iterator[bytes]:
    """Yield the sealed records of everything readable from ``src``."""
    aead = AESGCM(key)
    current = _read_full(src, RECORD_SIZE)
    index = 0
    while True:
        following = _read_full(src, RECORD_SIZE) if len(current) == RECORD_SIZE else b""
        final = not following
        yield seal_record(aead, index, final, current)
        if final:
            return
        current = following
        index += 1


def seal_stream(key: bytes, src: BinaryIO, dst: BinaryIO) -> tuple[int, str]:
    """Seal ``src`` into ``dst``; return (plaintext size, SHA-256 hex of plaintext)."""
    digest = hashlib.sha256()
    size = 0
    aead = AESGCM(key)
    current = _read_full(src, RECORD_SIZE)
    index = 0
    while True:
        following = _read_full(src, RECORD_SIZE) if len(current) == RECORD_SIZE else b""
        final = not following
        digest.update(current)
        size += len(current)
        dst.write(seal_record(aead, index, final, current))
        if final:
            return size, digest.hexdigest()
        current = following
        index += 1


def seal_bytes(key: bytes, data: bytes) -> bytes:
    """Seal a whole in-memory file."""
    aead = AESGCM(key)
    count = record_count(len(data))
    return b"".join(
        seal_record(aead, n, n == count - 1, data[n * RECORD_SIZE : (n + 1) * RECORD_SIZE]) for n in range(count)
    )


def _open_one(aead: AESGCM, index: int, final: bool, sealed: bytes | memoryview) -> bytes:
    try:
        return aead.decrypt(record_nonce(index, final), sealed, None)
    except InvalidTag:
        pass
    try:
        aead.decrypt(record_nonce(index, not final), sealed, None)
    except InvalidTag:
        raise TamperedError(f"record {index} failed authentication") from None
    if final:
        raise TruncatedError(f"stream ends after record {index}, which is not final")
    raise TrailingDataError(f"data follows the final record {index}")


def _sealed_pieces(src: BinaryIO | bytes | bytearray | memoryview) -> Iterator[bytes | memoryview]:
    """Successive sealed-record-sized pieces of ``src`` (the last may be short or empty).

    In-memory ciphertext is sliced without copying; a file object is read one
    record at a time, so memory stays bounded by a record either way.
    """
    if isinstance(src, bytes | bytearray | memoryview):
        view = memoryview(src).cast("B")
        for offset in range(0, max(len(view), 1), SEALED_RECORD_SIZE):
            yield view[offset : offset + SEALED_RECORD_SIZE]
        return
    while True:
        piece = _read_full(src, SEALED_RECORD_SIZE)
        yield piece
        if len(piece) < SEALED_RECORD_SIZE:
            return


def open_records(key: bytes, src: BinaryIO | bytes | bytearray | memoryview) -> Iterator[bytes]:
    """Yield authenticated plaintext records read from ``src`` (a file object or a buffer).

    Raises:
        TamperedError: a record fails authentication (altered, reordered,
            duplicated, moved from another file or job, or the wrong key).
        TruncatedError: the stream stops before the final record.
        TrailingDataError: bytes follow the final record.
    """
    aead = AESGCM(key)
    pieces = _sealed_pieces(src)
    current = next(pieces)
    index = 0
    while True:
        following = next(pieces, b"") if len(current) == SEALED_RECORD_SIZE else b""
        final = not following
        if len(current) < TAG_SIZE:
            raise TruncatedError(f"record {index} is shorter than its tag")
        plaintext = _open_one(aead, index, final, current)
        if final and not plaintext and index > 0:
            raise TamperedError(f"empty final record {index} after a non-empty file")
        yield plaintext
        if final:
            return
        current = following
        index += 1


def open_stream(
    key: bytes,
    src: BinaryIO | bytes | bytearray | memoryview,
    dst: BinaryIO,
    *,
    expected_size: int | None = None,
    expected_sha256: str | None = None,
) -> int:
    """Open ``src`` into ``dst`` and check size and SHA-256; return the size.

    Bytes already written to ``dst`` MUST be discarded when this raises.

    Raises:
        TamperedError, TruncatedError, TrailingDataError: see :func:`open_records`.
        DigestMismatchError: size or SHA-256 differs from the expected values.
    """
    digest = hashlib.sha256()
    size = 0
    for plaintext in open_records(key, src):
        size += len(plaintext)
        if expected_size is not None and size > expected_size:
            raise DigestMismatchError("file is longer than the manifest says")
        digest.update(plaintext)
        dst.write(plaintext)
    if expected_size is not None and size != expected_size:
        raise DigestMismatchError("file size differs from the manifest")
    if expected_sha256 is not None and not hmac.compare_digest(digest.hexdigest(), expected_sha256.lower()):
        raise DigestMismatchError("file SHA-256 differs from the manifest")
    return size


def open_bytes(
    key: bytes,
    sealed: bytes,
    *,
    expected_size: int | None = None,
    expected_sha256: str | None = None,
) -> bytes:
    """Open a whole in-memory ciphertext; return the plaintext only if all checks pass.

    Raises:
        TamperedError and subclasses: see :func:`open_stream`.
    """
    import io

    out = io.BytesIO()
    open_stream(
        key,
        sealed,
        out,
        expected_size=expected_size,
        expected_sha256=expected_sha256,
    )
    return out.getvalue()
