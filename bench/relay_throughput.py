"""DownloadFile throughput against a bare grpc.aio stream of the same bytes, and the
relay's peak memory while a large file goes up and down.

Both servers are child processes on 127.0.0.1 and send the same bytes in the
same DownloadFileResponse messages of 1 MiB: the bare one from memory, the relay
from its blob store (local folder, SQLite). The relay's RSS is sampled every
10 ms from /proc while uploading and downloading.

    python -m bench.relay_throughput [MIB]     # default 1024 (1 GiB)
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
from cloudtab.v1 import (
    customer_jobs_pb2,
    customer_jobs_pb2_grpc,
    shop_jobs_pb2,
    shop_jobs_pb2_grpc,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench.common import (
    CHANNEL_OPTIONS,
    RssSampler,
    add_shops,
    child_env,
    free_port,
    relay_child,
    rss_bytes,
)

MIB = 1 << 20
UPLOAD_CHUNK = 4 * MIB
BLOCK = 4 * MIB  # the file is this random block repeated

BARE_SERVER = r"""
import asyncio, sys
import grpc
from cloudtab.v1 import shop_jobs_pb2
block = open(sys.argv[1], "rb").read()
size = int(sys.argv[2])

async def download(request, context):
    offset = request.offset
    while offset < size:
        n = min(1 << 20, size - offset)
        start = offset % len(block)
        yield shop_jobs_pb2.DownloadFileResponse(offset=offset, data=block[start:start + n])
        offset += n

async def main():
    handler = grpc.method_handlers_generic_handler("cloudtab.v1.ShopJobsService", {
        "DownloadFile": grpc.unary_stream_rpc_method_handler(
            download,
            request_deserializer=shop_jobs_pb2.DownloadFileRequest.FromString,
            response_serializer=shop_jobs_pb2.DownloadFileResponse.SerializeToString),
    })
    server = grpc.aio.server(options=[("grpc.max_send_message_length", 8 << 20)])
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(sys.argv[3])
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()

asyncio.run(main())
"""


async def _download(address: str, job_id: str, token: str | None) -> tuple[int, float, str]:
    """(bytes, seconds, sha256) of one DownloadFile stream."""
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
        md = (("authorization", f"Bearer {token}"),) if token else None
        digest = hashlib.sha256()
        total = 0
        start = time.perf_counter()
        async for msg in stub.DownloadFile(shop_jobs_pb2.DownloadFileRequest(job_id=job_id), metadata=md):
            digest.update(msg.data)
            total += len(msg.data)
        return total, time.perf_counter() - start, digest.hexdigest()


async def _upload_and_submit(address: str, slug: str, code: str, block: bytes, size: int) -> tuple[str, str, float]:
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        key = ec.generate_private_key(ec.SECP256R1()).public_key()
        public = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        shop = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
        enrolled = await shop.Enroll(
            shop_jobs_pb2.EnrollRequest(enrollment_code=code, public_key=public, kiosk_version="0.1.0")
        )
        customer = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
        created = await customer.CreateJob(
            customer_jobs_pb2.CreateJobRequest(
                shop_slug=slug, file_sizes=[size], key_fingerprint=hashlib.sha256(public).digest()
            )
        )
        job_id = created.job.job_id
        md = (("authorization", f"Bearer {created.customer_token}"),)

        async def messages() -> AsyncIterator[customer_jobs_pb2.UploadFileRequest]:
            yield customer_jobs_pb2.UploadFileRequest(header=customer_jobs_pb2.UploadFileHeader(job_id=job_id))
            sent = 0
            while sent < size:
                n = min(UPLOAD_CHUNK, size - sent)
                start = sent % len(block)
                yield customer_jobs_pb2.UploadFileRequest(data=block[start : start + n])
                sent += n

        start = time.perf_counter()
        reply = await customer.UploadFile(messages(), metadata=md)
        elapsed = time.perf_counter() - start
        if not reply.complete:
            raise RuntimeError("upload incomplete")
        await customer.SubmitJob(customer_jobs_pb2.SubmitJobRequest(job_id=job_id, sealed_manifest=b"m"), metadata=md)
        return job_id, enrolled.shop_token, elapsed


def _expected_digest(block: bytes, size: int) -> str:
    digest = hashlib.sha256()
    for start in range(0, size, len(block)):
        digest.update(block[: min(len(block), size - start)])
    return digest.hexdigest()


def run(mib: int = 1024) -> list[dict[str, Any]]:
    """Measure and return the figures (see module docstring)."""
    size = mib * MIB
    block = os.urandom(BLOCK)
    expected = _expected_digest(block, size)
    with tempfile.TemporaryDirectory(prefix="bare-") as tmp:
        block_path = Path(tmp) / "block"
        block_path.write_bytes(block)
        bare_address = f"127.0.0.1:{free_port()}"
        bare = subprocess.Popen(
            [sys.executable, "-c", BARE_SERVER, str(block_path), str(size), bare_address],
            stdout=subprocess.PIPE, env=child_env(), cwd=tmp,
        )  # fmt: skip
        try:
            assert bare.stdout is not None
            bare.stdout.readline()
            with relay_child() as relay:
                ((slug, code),) = add_shops(relay.data_dir, 1)
                time.sleep(0.5)
                idle = rss_bytes(relay.pid)
                with RssSampler(relay.pid) as sampler:
                    job_id, token, up_seconds = asyncio.run(_upload_and_submit(relay.address, slug, code, block, size))
                    relay_runs = [asyncio.run(_download(relay.address, job_id, token)) for _ in range(2)]
                bare_runs = [asyncio.run(_download(bare_address, "bare", None)) for _ in range(2)]
        finally:
            bare.terminate()
            bare.wait(10)
    for total, _, digest in relay_runs + bare_runs:
        if total != size or digest != expected:
            raise RuntimeError("downloaded bytes differ")
    relay_mbs = max(size / s for _, s, _ in relay_runs) / 1e6
    bare_mbs = max(size / s for _, s, _ in bare_runs) / 1e6
    up_mbs = size / up_seconds / 1e6
    peak_above = (sampler.peak - idle) / MIB
    return [
        {"figure": f"relay DownloadFile throughput ({mib} MiB, local folder)", "value": round(relay_mbs, 1),
         "unit": "MB/s", "baseline": round(bare_mbs, 1), "ratio": round(relay_mbs / bare_mbs, 2), "target": ">= 0.8x"},
        {"figure": f"relay UploadFile throughput ({mib} MiB, local folder, fsync per chunk)", "value": round(up_mbs, 1),
         "unit": "MB/s", "baseline": None, "ratio": None, "target": None},
        {"figure": f"relay peak RSS above idle, {mib} MiB up and down", "value": round(peak_above, 1), "unit": "MiB",
         "baseline": round(idle / MIB, 1), "ratio": None, "target": "< 64 MiB"},
    ]  # fmt: skip


if __name__ == "__main__":
    for row in run(*[int(a) for a in sys.argv[1:2]]):
        print(row)
