"""Submit -> kiosk event latency with many kiosks subscribed to one relay.

One embedded relay (SQLite + local folder) in a child process; 1,000 shops, each
with one enrolled kiosk holding a SubscribeJobs stream; then jobs are submitted
to random shops one after another and the time from sending SubmitJob to the
kiosk receiving the QUEUED event is recorded. Baseline in the same run: a bare
unary round trip (health Check) to the same relay with the same streams open.

    python -m bench.relay_latency [KIOSKS] [SAMPLES]
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
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
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.common import CHANNEL_OPTIONS, add_shops, percentile, relay_child

CHANNELS = 20
TARGET_P99_MS = 20.0


def _public_key() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


async def _measure(address: str, shops: list[tuple[str, str]], samples: int) -> dict[str, list[float]]:
    import hashlib

    channels = [grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) for _ in range(CHANNELS)]
    sem = asyncio.Semaphore(50)

    async def enroll(i: int, code: str) -> tuple[str, bytes]:
        async with sem:
            key = _public_key()
            stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channels[i % CHANNELS])
            reply = await stub.Enroll(
                shop_jobs_pb2.EnrollRequest(enrollment_code=code, public_key=key, kiosk_version="0.1.0")
            )
            return reply.shop_token, hashlib.sha256(key).digest()

    enrolled = await asyncio.gather(*(enroll(i, code) for i, (_, code) in enumerate(shops)))
    waiting: dict[str, asyncio.Future[float]] = {}
    ready = asyncio.Semaphore(0)

    async def kiosk(i: int, token: str) -> None:
        stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channels[i % CHANNELS])
        call = stub.SubscribeJobs(
            shop_jobs_pb2.SubscribeJobsRequest(kiosk_version="0.1.0"), metadata=(("authorization", f"Bearer {token}"),)
        )
        await call.wait_for_connection()
        ready.release()
        try:
            async for item in call:
                if item.WhichOneof("item") == "event":
                    fut = waiting.get(item.event.job.job_id)
                    if fut is not None and not fut.done():
                        fut.set_result(time.perf_counter())
        except (grpc.aio.AioRpcError, asyncio.CancelledError):
            pass

    tasks = [asyncio.create_task(kiosk(i, tok)) for i, (tok, _) in enumerate(enrolled)]
    for _ in tasks:
        await ready.acquire()
    await asyncio.sleep(1.0)  # let every stream finish its replay
    customer = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channels[0])
    health = health_pb2_grpc.HealthStub(channels[1])
    latencies: list[float] = []
    rtts: list[float] = []
    rng = random.Random(7)
    payload = os.urandom(1024)
    for _ in range(samples):
        i = rng.randrange(len(shops))
        slug, fp = shops[i][0], enrolled[i][1]
        created = await customer.CreateJob(
            customer_jobs_pb2.CreateJobRequest(shop_slug=slug, file_sizes=[len(payload)], key_fingerprint=fp)
        )
        md = (("authorization", f"Bearer {created.customer_token}"),)
        job_id = created.job.job_id

        async def upload(job_id: str = job_id) -> Any:
            yield customer_jobs_pb2.UploadFileRequest(header=customer_jobs_pb2.UploadFileHeader(job_id=job_id))
            yield customer_jobs_pb2.UploadFileRequest(data=payload)

        await customer.UploadFile(upload(), metadata=md)
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        waiting[job_id] = fut
        sent = time.perf_counter()
        await customer.SubmitJob(
            customer_jobs_pb2.SubmitJobRequest(job_id=job_id, sealed_manifest=b"m" * 200), metadata=md
        )
        arrived = await asyncio.wait_for(fut, 10)
        latencies.append((arrived - sent) * 1000)
        start = time.perf_counter()
        await health.Check(health_pb2.HealthCheckRequest())
        rtts.append((time.perf_counter() - start) * 1000)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for ch in channels:
        await ch.close()
    return {"latency": latencies, "rtt": rtts}


def run(kiosks: int = 1000, samples: int = 300) -> list[dict[str, Any]]:
    """Measure and return the figures (see module docstring)."""
    with relay_child() as relay:
        shops = add_shops(relay.data_dir, kiosks)
        result = asyncio.run(_measure(relay.address, shops, samples))
    lat, rtt = result["latency"], result["rtt"]
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    r50, r99 = percentile(rtt, 50), percentile(rtt, 99)
    return [
        {"figure": f"submit->kiosk event p50, {kiosks} kiosks subscribed (SQLite)", "value": round(p50, 2),
         "unit": "ms", "baseline": round(r50, 2), "ratio": round(p50 / r50, 1), "target": None, "n": len(lat)},
        {"figure": f"submit->kiosk event p99, {kiosks} kiosks subscribed (SQLite)", "value": round(p99, 2),
         "unit": "ms", "baseline": round(r99, 2), "ratio": round(p99 / r99, 1),
         "target": f"<= {TARGET_P99_MS:.0f} ms", "n": len(lat)},
    ]  # fmt: skip


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    for row in run(*args):
        print(row)
