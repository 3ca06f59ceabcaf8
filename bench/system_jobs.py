"""Jobs per second end to end: create, upload 100 KB, submit, the kiosk is notified.

A real relay process on PostgreSQL (blobs in a local folder) and, as the
baseline in the same run, the embedded relay on SQLite. Customers are
concurrent grpc.aio clients in this process doing exactly what the bridge does;
the kiosk is a SubscribeJobs stream that stamps each job when its QUEUED event
arrives. Also reports submit -> notify latency under that load.

    python -m bench.system_jobs [--jobs 300] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
from cloudtab.v1 import (
    common_pb2,
    customer_jobs_pb2,
    customer_jobs_pb2_grpc,
    shop_jobs_pb2,
    shop_jobs_pb2_grpc,
)

import envelope
from bench.common import (
    CHANNEL_OPTIONS,
    Relay,
    enroll,
    percentile,
    pg_database,
    seal_file,
    sealed_manifest,
    upload_requests,
)

FILE_BYTES = 100 * 1024
TARGET_JOBS_PER_S = 50.0


async def _journeys(relay: Relay, jobs: int, concurrency: int) -> dict[str, float]:
    """Run `jobs` customer journeys against `relay`; returns rate and latencies."""
    with grpc.insecure_channel(relay.address) as sync_channel:
        slug, code = relay.add_shop("Bench Shop")
        shop = enroll(sync_channel, slug, code)
    sealed = seal_file(os.urandom(FILE_BYTES))
    notified: dict[str, float] = {}
    submitted: dict[str, float] = {}
    all_seen = asyncio.Event()

    async with (
        grpc.aio.insecure_channel(relay.address, options=CHANNEL_OPTIONS) as kiosk_channel,
        grpc.aio.insecure_channel(relay.address, options=CHANNEL_OPTIONS) as customer_channel,
    ):
        kiosk = shop_jobs_pb2_grpc.ShopJobsServiceStub(kiosk_channel)
        stream = kiosk.SubscribeJobs(
            shop_jobs_pb2.SubscribeJobsRequest(after_sequence=0, kiosk_version="0.1.0"), metadata=shop.metadata
        )

        async def listen() -> None:
            async for item in stream:
                if item.HasField("event") and item.event.job.state == common_pb2.JOB_STATE_QUEUED:
                    notified.setdefault(item.event.job.job_id, time.perf_counter())
                    if len(notified) >= jobs:
                        all_seen.set()

        listener = asyncio.create_task(listen())
        customer = customer_jobs_pb2_grpc.CustomerJobsServiceStub(customer_channel)
        fingerprint = envelope.fingerprint(shop.public_key)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(jobs):
            queue.put_nowait(n)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                created = await customer.CreateJob(
                    customer_jobs_pb2.CreateJobRequest(
                        shop_slug=shop.slug, file_sizes=[len(sealed.ciphertext)], key_fingerprint=fingerprint
                    ),
                    timeout=30,
                )
                job_id = created.job.job_id
                auth = (("authorization", f"Bearer {created.customer_token}"),)
                await customer.UploadFile(upload_requests(job_id, sealed.ciphertext), metadata=auth, timeout=60)
                manifest = sealed_manifest(sealed, shop, job_id)
                submitted[job_id] = time.perf_counter()
                await customer.SubmitJob(
                    customer_jobs_pb2.SubmitJobRequest(job_id=job_id, sealed_manifest=manifest),
                    metadata=auth,
                    timeout=30,
                )

        await asyncio.sleep(0.3)  # the subscription is open and replayed
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        try:
            await asyncio.wait_for(all_seen.wait(), timeout=60)
        except TimeoutError:
            pass
        elapsed = max(notified.values(), default=time.perf_counter()) - start
        stream.cancel()
        listener.cancel()
        try:
            await listener
        except (asyncio.CancelledError, grpc.aio.AioRpcError):
            pass
    latencies = [(notified[j] - submitted[j]) * 1000 for j in submitted if j in notified]
    return {
        "rate": len(notified) / elapsed if elapsed > 0 else 0.0,
        "notified": len(notified),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }


def measure(database_url: str | None, jobs: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="cloudtab-bench-") as tmp:
        relay = Relay(Path(tmp) / "relay", database_url)
        try:
            return asyncio.run(_journeys(relay, jobs, concurrency))
        finally:
            relay.stop()


def run(jobs: int = 300, concurrency: int = 8) -> list[dict[str, Any]]:
    with pg_database() as url:
        pg = measure(url, jobs, concurrency)
    sqlite = measure(None, jobs, concurrency)
    cores = os.cpu_count()
    return [
        {
            "figure": f"jobs/s end to end on PostgreSQL (create, upload 100 KB, submit, notify; {concurrency} "
            f"customers, {jobs} jobs, relay + clients on {cores} cores); baseline: embedded SQLite relay",
            "value": pg["rate"],
            "unit": "jobs/s",
            "baseline": sqlite["rate"],
            "ratio": pg["rate"] / sqlite["rate"] if sqlite["rate"] else None,
            "target": f">= {TARGET_JOBS_PER_S:.0f}",
        },
        {
            "figure": "submit -> kiosk notified under that load, p50 (PostgreSQL; baseline SQLite)",
            "value": pg["p50_ms"],
            "unit": "ms",
            "baseline": sqlite["p50_ms"],
            "ratio": None,
            "target": "<= 100",
            "n": pg["notified"],
        },
        {
            "figure": "submit -> kiosk notified under that load, p99 (PostgreSQL; baseline SQLite)",
            "value": pg["p99_ms"],
            "unit": "ms",
            "baseline": sqlite["p99_ms"],
            "ratio": None,
            "target": "<= 500",
            "n": pg["notified"],
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    for row in run(args.jobs, args.concurrency):
        print(f"{row['figure']}: {row['value']:.1f} {row['unit']} (baseline {row['baseline']:.1f})")


if __name__ == "__main__":
    main()
