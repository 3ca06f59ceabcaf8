"""File record streams: sizes, boundaries, precise failures."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from envelope import (
    RECORD_SIZE,
    DigestMismatchError,
    TamperedError,
    TrailingDataError,
    TruncatedError,
    ciphertext_size,
    file_key,
    open_bytes,
    open_records,
    open_stream,
    plaintext_size,
    record_count,
    seal_bytes,
    seal_records,
    seal_stream,
)

K = bytes(range(32))
SIZES = [
    0,
    1,
    RECORD_SIZE - 1,
    RECORD_SIZE,
    RECORD_SIZE + 1,
    3 * RECORD_SIZE,
    3 * RECORD_SIZE + 7,
]


class Dribble(io.RawIOBase):
    """A reader that returns at most 1000 bytes per read (like a pipe)."""

    def __init__(self, data: bytes) -> None:
        self._src = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._src.read(min(size, 1000) if size >= 0 else 1000)


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_and_sizes(size: int) -> None:
    data = os.urandom(size)
    key = file_key(K, 0)
    sealed = seal_bytes(key, data)
    assert len(sealed) == ciphertext_size(size)
    assert plaintext_size(len(sealed)) == size
    assert b"".join(seal_records(key, io.BytesIO(data))) == sealed
    out = io.BytesIO()
    assert seal_stream(key, Dribble(data), out) == (
        size,
        hashlib.sha256(data).hexdigest(),
    )  # type: ignore[arg-type]
    assert out.getvalue() == sealed
    assert (
        open_bytes(
            key,
            sealed,
            expected_size=size,
            expected_sha256=hashlib.sha256(data).hexdigest(),
        )
        == data
    )
    plain = io.BytesIO()
    assert open_stream(key, Dribble(sealed), plain) == size  # type: ignore[arg-type]
    assert plain.getvalue() == data


def test_record_counts() -> None:
    assert [record_count(n) for n in (0, 1, RECORD_SIZE, RECORD_SIZE + 1)] == [
        1,
        1,
        1,
        2,
    ]
    assert ciphertext_size(0) == 16
    assert ciphertext_size(RECORD_SIZE) == RECORD_SIZE + 16
    assert ciphertext_size(RECORD_SIZE + 1) == RECORD_SIZE + 33
    with pytest.raises(ValueError):
        ciphertext_size(-1)
    for bad in (0, 15, RECORD_SIZE + 16 + 16, RECORD_SIZE + 16 + 5):
        with pytest.raises(TruncatedError):
            plaintext_size(bad)


def test_file_keys_differ() -> None:
    keys = {file_key(K, i) for i in range(50)}
    assert len(keys) == 50
    with pytest.raises(ValueError):
        file_key(b"short", 0)


def test_truncated_at_record_boundary() -> None:
    key = file_key(K, 0)
    sealed = seal_bytes(key, bytes(2 * RECORD_SIZE + 5))
    with pytest.raises(TruncatedError):
        open_bytes(key, sealed[: 2 * (RECORD_SIZE + 16)])
    with pytest.raises(TruncatedError):
        open_bytes(key, sealed[: RECORD_SIZE + 16])
    with pytest.raises(TruncatedError):
        open_bytes(key, b"")


def test_trailing_data() -> None:
    key = file_key(K, 0)
    sealed = seal_bytes(key, bytes(RECORD_SIZE))
    with pytest.raises(TrailingDataError):
        open_bytes(key, sealed + seal_bytes(key, b"x"))


def test_empty_final_record_rejected() -> None:
    """A non-empty file never ends with an empty record, even a valid one."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from envelope.stream import seal_record

    key = file_key(K, 0)
    aead = AESGCM(key)
    forged = seal_record(aead, 0, False, bytes(RECORD_SIZE)) + seal_record(aead, 1, True, b"")
    with pytest.raises(TamperedError):
        open_bytes(key, forged)


def test_digest_and_size_checked() -> None:
    key = file_key(K, 0)
    sealed = seal_bytes(key, b"hello")
    with pytest.raises(DigestMismatchError):
        open_bytes(key, sealed, expected_size=4)
    with pytest.raises(DigestMismatchError):
        open_bytes(key, sealed, expected_sha256="00" * 32)


def test_records_only_after_authentication() -> None:
    key = file_key(K, 0)
    sealed = bytearray(seal_bytes(key, bytes(2 * RECORD_SIZE)))
    sealed[-1] ^= 1
    records = open_records(key, io.BytesIO(bytes(sealed)))
    assert next(records) == bytes(RECORD_SIZE)
    with pytest.raises(TamperedError):
        next(records)
