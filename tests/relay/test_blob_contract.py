"""Contract tests run against every BlobStore implementation (local folder, GCS emulator)."""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from relay_grpc.store.blobs import (
    BlobNotFoundError,
    BlobStore,
    OffsetMismatchError,
    open_blob_store,
    validate_key,
    validate_prefix,
)
from relay_grpc.store.blobs.gcs import GcsBlobStore
from relay_grpc.store.blobs.local import LocalBlobStore

T = TypeVar("T")
MiB = 1 << 20


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def pattern(index: int, size: int) -> bytes:
    """Deterministic, index-dependent bytes (so misplaced chunks are detected)."""
    seed = hashlib.sha256(index.to_bytes(8, "big")).digest()
    return (seed * (size // len(seed) + 1))[:size]


@pytest.fixture(params=["local", "gcs"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], BlobStore]:
    """Factory of fresh store instances on the same folder/bucket (a new instance = a new replica)."""
    if request.param == "local":
        return lambda: open_blob_store(gcs_bucket=None, data_dir=tmp_path)
    bucket = request.getfixturevalue("gcs_bucket")
    return lambda: GcsBlobStore.from_env(bucket=bucket, prefix="relay-test", retry_timeout=3.0)


def test_factory_picks_backend(tmp_path: Path) -> None:
    local = open_blob_store(gcs_bucket=None, data_dir=tmp_path)
    assert isinstance(local, LocalBlobStore)
    assert local.root == tmp_path / "blobs"
    remote = open_blob_store(gcs_bucket="some-bucket", gcs_prefix="p", data_dir=tmp_path)
    assert isinstance(remote, GcsBlobStore)
    assert remote.backend.prefix == "p/"
    run(local.close())
    run(remote.close())


def test_append_size_read_iter(make_store: Callable[[], BlobStore]) -> None:
    async def scenario() -> None:
        store = make_store()
        key = "jobs/j1/0"
        assert await store.size(key) == 0
        assert await store.append(key, 0, b"hello ") == 6
        assert await store.append(key, 6, b"world") == 11
        assert await store.append(key, 11, b"") == 11
        assert await store.size(key) == 11
        assert await store.read(key, 0, 100) == b"hello world"
        assert await store.read(key, 4, 4) == b"o wo"  # spans two parts
        assert await store.read(key, 11, 5) == b""
        chunks = [chunk async for chunk in store.iter_chunks(key, 0, 4)]
        assert chunks == [b"hell", b"o wo", b"rld"]
        assert b"".join([c async for c in store.iter_chunks(key, 3, 100)]) == b"lo world"
        assert [c async for c in store.iter_chunks(key, 11, 4)] == []
        await store.close()

    run(scenario())


def test_missing_key(make_store: Callable[[], BlobStore]) -> None:
    async def scenario() -> None:
        store = make_store()
        assert await store.size("jobs/none/0") == 0
        with pytest.raises(BlobNotFoundError):
            await store.read("jobs/none/0", 0, 10)
        with pytest.raises(BlobNotFoundError):
            async for _ in store.iter_chunks("jobs/none/0", 0, 10):
                pass
        await store.delete("jobs/none/0")  # idempotent
        await store.close()

    run(scenario())


def test_wrong_offset_reports_committed(make_store: Callable[[], BlobStore]) -> None:
    async def scenario() -> None:
        store = make_store()
        key = "jobs/j2/1"
        with pytest.raises(OffsetMismatchError) as ahead:
            await store.append(key, 5, b"x")
        assert ahead.value.committed == 0
        await store.append(key, 0, b"abcdef")
        for bad in (0, 3, 7, 100):
            with pytest.raises(OffsetMismatchError) as info:
                await store.append(key, bad, b"zz")
            assert info.value.committed == 6
        with pytest.raises(ValueError):
            await store.append(key, -1, b"zz")
        assert await store.read(key, 0, 10) == b"abcdef"
        await store.close()

    run(scenario())


def test_concurrent_appends_one_wins(make_store: Callable[[], BlobStore]) -> None:
    async def scenario() -> None:
        stores = [make_store() for _ in range(6)]  # separate instances, like separate replicas
        key = "jobs/race/0"
        await stores[0].append(key, 0, b"base")
        payloads = [pattern(i, 1000 + i) for i in range(len(stores))]
        results = await asyncio.gather(
            *(store.append(key, 4, data) for store, data in zip(stores, payloads, strict=True)),
            return_exceptions=True,
        )
        winners = [i for i, result in enumerate(results) if not isinstance(result, BaseException)]
        assert len(winners) == 1, results
        winner = winners[0]
        assert results[winner] == 4 + len(payloads[winner])
        for i, result in enumerate(results):
            if i != winner:
                assert isinstance(result, OffsetMismatchError), result
                assert result.committed == 4 + len(payloads[winner])
        assert await stores[1].read(key, 0, 5000) == b"base" + payloads[winner]
        for store in stores:
            await store.close()

    run(scenario())


def test_identical_retry_is_idempotent(make_store: Callable[[], BlobStore]) -> None:
    """A create that finds its own bytes already there (a retried request whose first
    attempt landed) succeeds; different bytes lose; a later plain repeat is a mismatch."""

    async def scenario() -> None:
        first, second, third = make_store(), make_store(), make_store()
        key = "jobs/r/0"
        assert await second.size(key) == 0  # second and third now believe the end is 0
        assert await third.size(key) == 0
        assert await first.append(key, 0, b"same") == 4
        assert await second.append(key, 0, b"same") == 4
        with pytest.raises(OffsetMismatchError) as info:
            await third.append(key, 0, b"diff")
        assert info.value.committed == 4
        with pytest.raises(OffsetMismatchError):
            await first.append(key, 0, b"same")
        assert await third.read(key, 0, 10) == b"same"
        for store in (first, second, third):
            await store.close()

    run(scenario())


def test_resume_in_new_instance(make_store: Callable[[], BlobStore]) -> None:
    async def scenario() -> None:
        first = make_store()
        key = "jobs/resume/0"
        size = 0
        for i in range(3):
            size = await first.append(key, size, pattern(i, 1000))
        # No close(): the first instance just goes away, as on a crash.
        second = make_store()
        assert await second.size(key) == 3000
        with pytest.raises(OffsetMismatchError) as info:
            await second.append(key, 2000, b"late")
        assert info.value.committed == 3000
        assert await second.append(key, 3000, pattern(3, 500)) == 3500
        expected = b"".join(pattern(i, 1000) for i in range(3)) + pattern(3, 500)
        assert b"".join([c async for c in second.iter_chunks(key, 0, 777)]) == expected
        # The old instance's cached view must not let it write at a stale offset.
        with pytest.raises(OffsetMismatchError):
            await first.append(key, 3000, b"stale")
        await first.close()
        await second.close()

    run(scenario())


def test_delete_list_prefix(make_store: Callable[[], BlobStore]) -> None:
    async def scenario() -> None:
        store = make_store()
        keys = ["jobs/a/0", "jobs/a/1", "jobs/ab/0", "jobs/b/0", "other/x"]
        for key in keys:
            await store.append(key, 0, key.encode())
        assert await store.list_keys() == sorted(keys)
        assert await store.list_keys("jobs/a/") == ["jobs/a/0", "jobs/a/1"]
        assert await store.list_keys("jobs/a") == ["jobs/a/0", "jobs/a/1", "jobs/ab/0"]
        assert await store.list_keys("nothing/") == []
        await store.delete("jobs/b/0")
        await store.delete("jobs/b/0")
        assert await store.size("jobs/b/0") == 0
        assert await store.delete_prefix("jobs/a/") == 2
        assert await store.delete_prefix("jobs/a/") == 0
        assert await store.list_keys() == ["jobs/ab/0", "other/x"]
        assert await store.read("jobs/ab/0", 0, 100) == b"jobs/ab/0"
        # A deleted key starts again from zero.
        assert await store.append("jobs/a/0", 0, b"new") == 3
        await store.close()

    run(scenario())


def test_delete_key_with_many_parts(make_store: Callable[[], BlobStore]) -> None:
    async def scenario() -> None:
        store = make_store()
        size = 0
        for i in range(40):
            size = await store.append("jobs/m/0", size, pattern(i, 100))
        await store.append("jobs/m/1", 0, b"keep")
        await store.delete("jobs/m/0")
        assert await store.size("jobs/m/0") == 0
        assert await store.list_keys("jobs/m/") == ["jobs/m/1"]
        with pytest.raises(BlobNotFoundError):
            await store.read("jobs/m/0", 0, 1)
        await store.close()

    run(scenario())


def test_nested_keys_are_independent(make_store: Callable[[], BlobStore]) -> None:
    async def scenario() -> None:
        store = make_store()
        await store.append("jobs/n", 0, b"parent")
        await store.append("jobs/n/0", 0, b"child")
        await store.delete("jobs/n")
        assert await store.size("jobs/n") == 0
        assert await store.read("jobs/n/0", 0, 10) == b"child"
        await store.close()

    run(scenario())


def test_validate_key_accepts_relay_keys() -> None:
    for key in ("jobs/0123abcd/0", "jobs/-x_y=/12", "a", "jobs/v1.2/file.bin"):
        assert validate_key(key) == key
    assert validate_prefix("") == ""
    assert validate_prefix("jobs/") == "jobs/"
    with pytest.raises(ValueError):
        validate_key("x" * 513)


@pytest.mark.parametrize(
    "key", ["", "/abs/key", "../up", "jobs/../x", "jobs//x", "jobs/./x", "jobs/.hidden", "jobs/x/", "a\\b", "sp ace"]
)
def test_bad_keys_rejected(make_store: Callable[[], BlobStore], key: str) -> None:
    async def scenario() -> None:
        store = make_store()
        for call in (
            lambda: store.append(key, 0, b"x"),
            lambda: store.size(key),
            lambda: store.read(key, 0, 1),
            lambda: store.delete(key),
        ):
            with pytest.raises(ValueError):
                await call()
        with pytest.raises(ValueError):
            store.iter_chunks(key, 0, 1)
        if key not in ("", "jobs/x/"):
            with pytest.raises(ValueError):
                await store.list_keys(key)
        await store.close()

    run(scenario())


@pytest.mark.slow
def test_large_blob_streams_with_bounded_memory(make_store: Callable[[], BlobStore]) -> None:
    chunk, count = MiB, 64

    async def scenario() -> tuple[int, int]:
        store = make_store()
        key = "jobs/big/0"
        size = 0
        for i in range(count):
            size = await store.append(key, size, pattern(i, chunk))
        assert await store.size(key) == count * chunk
        digest = hashlib.sha256()
        expected = hashlib.sha256()
        tracemalloc.start()
        try:
            seen = 0
            async for piece in store.iter_chunks(key, 0, chunk):
                assert len(piece) <= chunk
                digest.update(piece)
                seen += len(piece)
                del piece
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        for i in range(count):
            expected.update(pattern(i, chunk))
        assert seen == count * chunk
        assert digest.hexdigest() == expected.hexdigest()
        await store.close()
        return seen, peak

    seen, peak = run(scenario())
    print(f"tracemalloc peak {peak / MiB:.2f} MiB streaming {seen / MiB:.0f} MiB")
    assert peak < 4 * chunk, f"peak {peak / MiB:.1f} MiB while streaming {seen / MiB:.0f} MiB"
