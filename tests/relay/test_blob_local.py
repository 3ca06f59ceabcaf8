"""Local-folder blob store: permission, disk-full and crash-leftover behaviour."""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relay_grpc.store.blobs import BlobStoreFullError, BlobStorePermissionError
from relay_grpc.store.blobs.local import LocalBlobStore
from relay_grpc.store.blobs.parts import MAX_PART_SIZE
from tests.fixtures.services import service_missing


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _mount_tmpfs(path: Path, options: str) -> Iterator[Path]:
    path.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        service_missing(f"mounting a tmpfs (needs root): {result.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (needs root)."""
    yield from _mount_tmpfs(tmp_path / "tiny", "size=1m")


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    """A read-only folder that root cannot write either (a read-only tmpfs when root, chmod otherwise)."""
    if os.geteuid() == 0:
        yield from _mount_tmpfs(tmp_path / "ro", "ro,size=1m")
    else:
        path = tmp_path / "ro"
        path.mkdir()
        path.chmod(0o500)
        yield path
        path.chmod(0o700)


def test_read_only_folder_is_permission_error(readonly_dir: Path) -> None:
    with pytest.raises(BlobStorePermissionError, match="blob folder"):
        LocalBlobStore(readonly_dir / "blobs")

    async def scenario() -> None:
        store = LocalBlobStore(readonly_dir)  # exists already, so construction works
        with pytest.raises(BlobStorePermissionError):
            await store.check()
        with pytest.raises(BlobStorePermissionError):
            await store.append("jobs/a/0", 0, b"data")
        assert await store.size("jobs/a/0") == 0
        await store.close()

    run(scenario())


def test_disk_full_on_tiny_tmpfs(tiny_tmpfs: Path) -> None:
    async def scenario() -> None:
        store = LocalBlobStore(tiny_tmpfs / "blobs")
        assert await store.append("jobs/f/0", 0, b"x" * 1000) == 1000
        with pytest.raises(BlobStoreFullError, match="no space"):
            await store.append("jobs/f/0", 1000, b"y" * (2 << 20))
        assert await store.size("jobs/f/0") == 1000
        leftovers = [p.name for p in (tiny_tmpfs / "blobs" / "jobs" / "f" / "0").iterdir()]
        assert leftovers == [".00000000000000000000"]  # temp file cleaned up
        assert await store.append("jobs/f/0", 1000, b"z" * 1000) == 2000  # space is back
        await store.close()

    run(scenario())


def test_disk_full_through_write_seam(tmp_path: Path) -> None:
    calls = 0

    def failing_write(fd: int, data: memoryview) -> int:
        nonlocal calls
        calls += 1
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    async def scenario() -> None:
        store = LocalBlobStore(tmp_path, write=failing_write)
        with pytest.raises(BlobStoreFullError):
            await store.append("jobs/s/0", 0, b"data")
        assert await store.size("jobs/s/0") == 0
        await store.close()

    run(scenario())
    assert calls == 1


def test_crash_leftovers_and_gaps_are_ignored(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = LocalBlobStore(tmp_path)
        await store.append("jobs/g/0", 0, b"12345")
        folder = tmp_path / "jobs" / "g" / "0"
        (folder / ".tmp-deadbeef").write_bytes(b"half-written")  # a crash before link()
        (folder / f".{9:020d}").write_bytes(b"orphan")  # a part after a gap
        fresh = LocalBlobStore(tmp_path)
        assert await fresh.size("jobs/g/0") == 5
        assert await fresh.read("jobs/g/0", 0, 100) == b"12345"
        assert await fresh.list_keys() == ["jobs/g/0"]
        await fresh.delete("jobs/g/0")
        assert not (tmp_path / "jobs").exists()  # parts, temp files and empty folders gone
        await store.close()
        await fresh.close()

    run(scenario())


def test_append_larger_than_a_part_is_split(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = LocalBlobStore(tmp_path)
        data = os.urandom(MAX_PART_SIZE + 1234)
        assert await store.append("jobs/l/0", 0, data) == len(data)
        parts = sorted(p.name for p in (tmp_path / "jobs" / "l" / "0").iterdir())
        assert parts == [f".{0:020d}", f".{MAX_PART_SIZE:020d}"]
        other = LocalBlobStore(tmp_path)
        assert await other.read("jobs/l/0", MAX_PART_SIZE - 10, 20) == data[MAX_PART_SIZE - 10 : MAX_PART_SIZE + 10]
        await store.close()
        await other.close()

    run(scenario())


def test_new_directories_are_durable_before_the_first_part_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key's first part makes the entries of the directories it created durable (each
    new directory's parent fsynced) before the append returns, and only once."""
    from relay_grpc.store.blobs import local

    synced: list[str] = []
    real = local._fsync_dir

    def record(path: Path) -> None:
        synced.append(os.path.relpath(path, tmp_path))
        real(path)

    monkeypatch.setattr(local, "_fsync_dir", record)
    backend = local.LocalPartBackend(tmp_path)
    assert backend.create_part("jobs/abc/0", 0, b"x" * 100)
    assert {"jobs", "jobs/abc", "."} <= set(synced)  # the parents of jobs/abc/0, jobs/abc and jobs
    synced.clear()
    assert backend.create_part("jobs/abc/0", 100, b"y" * 100)
    assert backend.create_part("jobs/abc/1", 0, b"z" * 100)
    assert synced == ["jobs/abc"]  # only the new jobs/abc/1 entry; jobs/abc is durable already
