"""Hypothesis properties: every alteration of a sealed job fails with the right error.

Files are kept small by shrinking records: the format's RECORD_SIZE is fixed,
so multi-record files here are a few records of real size, with few examples.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envelope import (
    RECORD_SIZE,
    EnvelopeError,
    TamperedError,
    TrailingDataError,
    TruncatedError,
    WrongKeyError,
    file_key,
    generate_private_key,
    open_bytes,
    open_manifest,
    seal_bytes,
    seal_manifest,
)
from envelope.manifest import Customer, FileEntry, JobOptions, Manifest

SEALED = RECORD_SIZE + 16
K1 = bytes(range(32))
K2 = bytes(range(1, 33))
SHOP = generate_private_key()
OTHER_SHOP = generate_private_key()
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

sizes = st.sampled_from(
    [
        0,
        1,
        100,
        RECORD_SIZE - 1,
        RECORD_SIZE,
        RECORD_SIZE + 1,
        2 * RECORD_SIZE + 3,
        3 * RECORD_SIZE,
    ]
)


def content(size: int, seed: int) -> bytes:
    return (hashlib.sha256(seed.to_bytes(4, "big")).digest() * (size // 32 + 1))[:size]


def records(sealed: bytes) -> list[bytes]:
    return [sealed[i : i + SEALED] for i in range(0, len(sealed), SEALED)]


def must_fail(key: bytes, sealed: bytes, size: int, digest: str, expected: type[EnvelopeError]) -> None:
    """Opening fails with ``expected`` and never returns plaintext."""
    result = None
    with pytest.raises(expected):
        result = open_bytes(key, sealed, expected_size=size, expected_sha256=digest)
    assert result is None


@SETTINGS
@given(size=sizes, seed=st.integers(0, 2**16), data=st.data())
def test_flipped_bit(size: int, seed: int, data: st.DataObject) -> None:
    plain = content(size, seed)
    key = file_key(K1, 0)
    sealed = bytearray(seal_bytes(key, plain))
    position = data.draw(st.integers(0, len(sealed) * 8 - 1))
    sealed[position // 8] ^= 1 << (position % 8)
    must_fail(key, bytes(sealed), size, hashlib.sha256(plain).hexdigest(), TamperedError)


@SETTINGS
@given(
    size=st.sampled_from([RECORD_SIZE + 1, 2 * RECORD_SIZE + 3, 3 * RECORD_SIZE]),
    data=st.data(),
)
def test_record_dropped_duplicated_reordered(size: int, data: st.DataObject) -> None:
    plain = content(size, size)
    digest = hashlib.sha256(plain).hexdigest()
    key = file_key(K1, 0)
    recs = records(seal_bytes(key, plain))
    i = data.draw(st.integers(0, len(recs) - 1))
    op = data.draw(st.sampled_from(["drop", "dup", "swap"]))
    if op == "drop":
        altered = recs[:i] + recs[i + 1 :]
    elif op == "dup":
        altered = recs[: i + 1] + [recs[i]] + recs[i + 1 :]
    else:
        j = data.draw(st.integers(0, len(recs) - 1).filter(lambda j: j != i))
        altered = list(recs)
        altered[i], altered[j] = altered[j], altered[i]
    must_fail(key, b"".join(altered), size, digest, TamperedError)


@SETTINGS
@given(
    size=st.sampled_from([RECORD_SIZE + 1, 2 * RECORD_SIZE + 3, 3 * RECORD_SIZE]),
    cut=st.integers(1, 3 * SEALED),
)
def test_truncated(size: int, cut: int) -> None:
    plain = content(size, 7)
    key = file_key(K1, 0)
    sealed = seal_bytes(key, plain)
    cut = min(cut, len(sealed))
    expected = TruncatedError if (len(sealed) - cut) % SEALED == 0 else TamperedError
    must_fail(
        key,
        sealed[: len(sealed) - cut],
        size,
        hashlib.sha256(plain).hexdigest(),
        expected,
    )


@SETTINGS
@given(size=sizes, extra=st.binary(min_size=1, max_size=100))
def test_appended_bytes(size: int, extra: bytes) -> None:
    plain = content(size, 3)
    key = file_key(K1, 0)
    sealed = seal_bytes(key, plain)
    must_fail(key, sealed + extra, size, hashlib.sha256(plain).hexdigest(), TamperedError)


@SETTINGS
@given(size=sizes)
def test_whole_record_appended_is_trailing_data(size: int) -> None:
    plain = content(size, 5)
    key = file_key(K1, 0)
    sealed = seal_bytes(key, plain)
    if len(sealed) % SEALED == 0:  # last record is full: a whole record after it
        must_fail(
            key,
            sealed + records(sealed)[0],
            size,
            hashlib.sha256(plain).hexdigest(),
            TrailingDataError,
        )
    else:
        must_fail(key, sealed + sealed, size, hashlib.sha256(plain).hexdigest(), TamperedError)


@SETTINGS
@given(size=sizes, i=st.integers(0, 5), j=st.integers(0, 5), other_job=st.booleans())
def test_file_moved_to_other_position_or_job(size: int, i: int, j: int, other_job: bool) -> None:
    if i == j and not other_job:
        j = i + 1
    plain = content(size, 11)
    sealed = seal_bytes(file_key(K1, i), plain)
    wrong_key = file_key(K2 if other_job else K1, j)
    must_fail(wrong_key, sealed, size, hashlib.sha256(plain).hexdigest(), TamperedError)


@SETTINGS
@given(size=st.sampled_from([RECORD_SIZE + 1, 2 * RECORD_SIZE + 3]), data=st.data())
def test_record_from_other_file(size: int, data: st.DataObject) -> None:
    plain = content(size, 13)
    mine = records(seal_bytes(file_key(K1, 0), plain))
    theirs = records(seal_bytes(file_key(K1, 1), plain))
    i = data.draw(st.integers(0, len(mine) - 1))
    mine[i] = theirs[i]
    must_fail(
        file_key(K1, 0),
        b"".join(mine),
        size,
        hashlib.sha256(plain).hexdigest(),
        TamperedError,
    )


manifests = st.builds(
    Manifest,
    content_key=st.binary(min_size=32, max_size=32),
    files=st.lists(
        st.builds(
            FileEntry,
            name=st.text(max_size=40),
            type=st.sampled_from(["application/pdf", "image/jpeg", "text/plain"]),
            size=st.integers(0, 2**40),
            sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
            copies=st.integers(1, 999),
            page_ranges=st.sampled_from(["", "1", "1-3,5", "2-2"]),
        ),
        min_size=1,
        max_size=5,
    ).map(tuple),
    customer=st.builds(Customer, name=st.text(max_size=50), note=st.text(max_size=100)),
    options=st.builds(
        JobOptions,
        color=st.sampled_from(["monochrome", "color"]),
        sides=st.sampled_from(["one-sided", "two-sided-long-edge", "two-sided-short-edge"]),
        media=st.sampled_from(["A4", "Letter", "A3", "Legal"]),
        pages_per_sheet=st.sampled_from([1, 2, 4]),
        orientation=st.sampled_from(["portrait", "landscape"]),
    ),
)
job_ids = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="\x7f"),
    min_size=1,
    max_size=40,
)


@SETTINGS
@given(manifest=manifests, job=job_ids, other=job_ids)
def test_manifest_round_trip_and_binding(manifest: Manifest, job: str, other: str) -> None:
    sealed = seal_manifest(manifest, SHOP.public_key(), job)
    assert open_manifest(sealed, SHOP, job) == manifest
    if other != job:
        with pytest.raises(WrongKeyError):
            open_manifest(sealed, SHOP, other)
    with pytest.raises(WrongKeyError):
        open_manifest(sealed, OTHER_SHOP, job)


@SETTINGS
@given(manifest=manifests, data=st.data())
def test_manifest_flipped_bit(manifest: Manifest, data: st.DataObject) -> None:
    sealed = bytearray(seal_manifest(manifest, SHOP.public_key(), "J"))
    position = data.draw(st.integers(0, len(sealed) * 8 - 1))
    sealed[position // 8] ^= 1 << (position % 8)
    with pytest.raises(WrongKeyError):
        open_manifest(bytes(sealed), SHOP, "J")
