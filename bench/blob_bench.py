"""Blob store throughput: part-file stores against the raw I/O they are built on.

Local: append 64 MiB in 1 MiB chunks (temp + fsync + link + dir fsync per part)
against one file written with the same chunks and an fsync per chunk; streaming
read against plain file reads. GCS (fake-gcs-server on 127.0.0.1): appends
against bare create-only uploads of the same objects, stream against bare
ranged downloads. Also: append latency with many small parts already present
(the in-process chain cache keeps an append at one request).

Usage: python -m bench blob_bench   (or python bench/blob_bench.py)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

MiB = 1 << 20
TOTAL = 64 * MiB
CHUNK = MiB


def _row(figure: str, value: float, unit: str, baseline: float | None, target: str | None) -> dict[str, Any]:
    ratio = value / baseline if baseline else None
    return {"figure": figure, "value": value, "unit": unit, "baseline": baseline, "ratio": ratio, "target": target}


def _baseline_local_write(path: Path, data: bytes) -> float:
    started = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for begin in range(0, TOTAL, CHUNK):
            os.write(fd, data)
            os.fsync(fd)
    finally:
        os.close(fd)
    return TOTAL / MiB / (time.perf_counter() - started)


def _baseline_local_read(path: Path) -> float:
    started = time.perf_counter()
    with open(path, "rb", buffering=0) as handle:
        while handle.read(CHUNK):
            pass
    return TOTAL / MiB / (time.perf_counter() - started)


async def _store_rates(store: Any, key: str, data: bytes) -> tuple[float, float]:
    started = time.perf_counter()
    size = 0
    for _ in range(TOTAL // CHUNK):
        size = await store.append(key, size, data)
    write = TOTAL / MiB / (time.perf_counter() - started)
    started = time.perf_counter()
    seen = 0
    async for piece in store.iter_chunks(key, 0, CHUNK):
        seen += len(piece)
    read = seen / MiB / (time.perf_counter() - started)
    return write, read


async def _small_part_latency(store: Any, key: str, parts: int) -> float:
    """Median ms per 64 KiB append over the last 100 of ``parts`` appends."""
    data = os.urandom(64 * 1024)
    size = 0
    times: list[float] = []
    for index in range(parts):
        started = time.perf_counter()
        size = await store.append(key, size, data)
        if index >= parts - 100:
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _local(workdir: Path, data: bytes) -> list[dict[str, Any]]:
    from relay_grpc.store.blobs.local import LocalBlobStore

    base_write = _baseline_local_write(workdir / "baseline.bin", data)
    base_read = _baseline_local_read(workdir / "baseline.bin")

    async def measure() -> tuple[float, float, float]:
        store = LocalBlobStore(workdir / "blobs")
        write, read = await _store_rates(store, "jobs/bench/0", data)
        latency = await _small_part_latency(store, "jobs/bench/1", 1000)
        await store.close()
        return write, read, latency

    write, read, latency = asyncio.run(measure())
    return [
        _row(
            "local append 64 MiB in 1 MiB chunks", write, "MiB/s", base_write, ">= 0.5x (baseline: fsync'd single file)"
        ),
        _row("local iter_chunks 1 MiB", read, "MiB/s", base_read, ">= 0.5x (baseline: plain read)"),
        _row("local 64 KiB append latency after 900 parts (p50)", latency, "ms", None, "< 5 ms"),
    ]


def _gcs(workdir: Path, data: bytes) -> list[dict[str, Any]]:
    from relay_grpc.store.blobs.gcs import GcsBlobStore, make_client
    from tests.fixtures.gcs import GcsEmulator, fake_gcs_binary

    binary = fake_gcs_binary()
    if binary is None:
        return []
    emulator = GcsEmulator(binary, workdir / "gcs")
    emulator.start()
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = emulator.url
    try:
        emulator.create_bucket("bench")
        client = make_client()
        bucket = client.bucket("bench")
        started = time.perf_counter()
        for index in range(TOTAL // CHUNK):
            bucket.blob(f"raw/{index:020d}").upload_from_string(data, if_generation_match=0)
        base_write = TOTAL / MiB / (time.perf_counter() - started)
        started = time.perf_counter()
        for index in range(TOTAL // CHUNK):
            bucket.blob(f"raw/{index:020d}").download_as_bytes(start=0, end=CHUNK - 1, checksum=None)
        base_read = TOTAL / MiB / (time.perf_counter() - started)
        client.close()

        async def measure() -> tuple[float, float, float]:
            store = GcsBlobStore.from_env(bucket="bench", prefix="relay")
            write, read = await _store_rates(store, "jobs/bench/0", data)
            latency = await _small_part_latency(store, "jobs/bench/1", 1000)
            await store.close()
            return write, read, latency

        write, read, latency = asyncio.run(measure())
    finally:
        emulator.stop()
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous
    return [
        _row(
            "gcs-emulator append 64 MiB in 1 MiB chunks", write, "MiB/s", base_write, ">= 0.8x (baseline: bare uploads)"
        ),
        _row("gcs-emulator iter_chunks 1 MiB", read, "MiB/s", base_read, ">= 0.8x (baseline: bare ranged downloads)"),
        _row("gcs-emulator 64 KiB append latency after 900 parts (p50)", latency, "ms", None, "< 20 ms"),
    ]


def run() -> list[dict[str, Any]]:
    """Measure local and GCS-emulator blob store figures (see module docstring)."""
    workdir = Path(tempfile.mkdtemp(prefix="blob-bench-"))
    data = os.urandom(CHUNK)
    try:
        return _local(workdir, data) + _gcs(workdir, data)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    for row in run():
        print(row)
