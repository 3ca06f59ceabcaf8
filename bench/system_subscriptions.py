"""Subscriptions one relay process holds, its memory, and notification latency as they grow.

One `cloudtab-relay serve` on PostgreSQL. 10,000 shops are written straight into
the database (enrolling them one by one over RPC would only measure enrollment);
then this process opens one SubscribeJobs stream per shop, spread over many
connections, in steps. At each step: the relay's RSS (/proc) and the latency
from SubmitJob to a probe kiosk's QUEUED event (p50/p99 of 15 jobs), the
"notification latency with N subscribed kiosks". Baselines: the relay's RSS with
no stream, and the latency with no other stream. Heartbeats every 60 s (they
cost no query per stream: one per-relay ticker batches them; see docs/relay.md).

    python -m bench.system_subscriptions [--max 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
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
    free_port,
    percentile,
    pg_database,
    save_plot,
    seal_file,
    sealed_manifest,
    upload_requests,
)

STREAMS_PER_CHANNEL = 200
BATCH = 200
PROBES = 15
RAMP_TIMEOUT = 60.0


def _insert_shops(database_url: str, count: int) -> list[str]:
    """Enrolled shops written directly to the relay's schema; returns their tokens."""
    import psycopg

    from relay_grpc.tokens import hash_token, new_token

    public = envelope.public_key_bytes(envelope.generate_private_key())
    fingerprint = envelope.fingerprint(public)
    now = time.time()
    tokens = [new_token() for _ in range(count)]
    columns = (
        "id, slug, display_name, public_key, key_fingerprint, token_hash, kiosk_version, created_at, last_sequence"
    )
    with (
        psycopg.connect(database_url) as conn,
        conn.cursor() as cur,
        cur.copy(f"COPY shops ({columns}) FROM STDIN") as copy,
    ):
        for n, token in enumerate(tokens):
            copy.write_row(
                (uuid.uuid4().hex, f"bench-{n}", f"Bench {n}", public, fingerprint, hash_token(token), "0.1.0", now, 0)
            )
    with psycopg.connect(database_url, autocommit=True) as conn:  # each shop's one kiosk (several kiosks per shop)
        conn.execute(
            "INSERT INTO kiosks (id, shop_id, label, public_key, key_fingerprint, token_hash, kiosk_version, created_at)"
            " SELECT id, id, 'Counter 1', public_key, key_fingerprint, token_hash, kiosk_version, created_at"
            " FROM shops WHERE slug LIKE 'bench-%'"
        )
    return tokens


def _held(metrics_url: str) -> int:
    """Open SubscribeJobs streams, from the relay's ``cloudtab_relay_subscriptions{kind="shop"}`` gauge."""
    import urllib.request

    with urllib.request.urlopen(metrics_url, timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith('cloudtab_relay_subscriptions{kind="shop"}'):
                return int(float(line.rsplit(" ", 1)[1]))
    return 0


class Crowd:
    """Many idle SubscribeJobs streams, each on its own shop."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.channels: list[grpc.aio.Channel] = []
        self.calls: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.failures = 0

    def _stub(self) -> shop_jobs_pb2_grpc.ShopJobsServiceStub:
        if not self.channels or len(self.calls) >= len(self.channels) * STREAMS_PER_CHANNEL:
            # why a local subchannel pool: each channel gets its own TCP connection
            self.channels.append(
                grpc.aio.insecure_channel(
                    self.address, options=[*CHANNEL_OPTIONS, ("grpc.use_local_subchannel_pool", 1)]
                )
            )
        return shop_jobs_pb2_grpc.ShopJobsServiceStub(self.channels[-1])

    def open(self, token: str) -> None:
        call = self._stub().SubscribeJobs(
            shop_jobs_pb2.SubscribeJobsRequest(after_sequence=0, kiosk_version="0.1.0"),
            metadata=(("authorization", f"Bearer {token}"),),
        )
        self.calls.append(call)
        self.tasks.append(asyncio.create_task(self._drain(call)))

    async def _drain(self, call: Any) -> None:
        try:
            async for _ in call:
                pass
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.failures += 1

    async def close(self) -> None:
        for call in self.calls:
            call.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for channel in self.channels:
            await channel.close()


async def _probe_latency(relay: Relay, probes: int) -> list[float]:
    """Submit -> QUEUED event at a dedicated kiosk, `probes` times; milliseconds."""
    with grpc.insecure_channel(relay.address) as channel:
        slug, code = relay.add_shop("Probe")
        shop = enroll(channel, slug, code)
    sealed = seal_file(os.urandom(2048))
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(relay.address, options=CHANNEL_OPTIONS) as channel:
        kiosk = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
        customer = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
        stream = kiosk.SubscribeJobs(
            shop_jobs_pb2.SubscribeJobsRequest(after_sequence=0, kiosk_version="0.1.0"), metadata=shop.metadata
        )
        arrived: dict[str, float] = {}
        waiting: dict[str, asyncio.Event] = {}

        async def listen() -> None:
            async for item in stream:
                if item.HasField("event") and item.event.job.state == common_pb2.JOB_STATE_QUEUED:
                    arrived[item.event.job.job_id] = time.perf_counter()
                    if item.event.job.job_id in waiting:
                        waiting[item.event.job.job_id].set()

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.5)
        for _ in range(probes):
            created = await customer.CreateJob(
                customer_jobs_pb2.CreateJobRequest(
                    shop_slug=shop.slug,
                    file_sizes=[len(sealed.ciphertext)],
                    key_fingerprint=envelope.fingerprint(shop.public_key),
                ),
                timeout=30,
            )
            job_id = created.job.job_id
            auth = (("authorization", f"Bearer {created.customer_token}"),)
            await customer.UploadFile(upload_requests(job_id, sealed.ciphertext), metadata=auth, timeout=30)
            manifest = sealed_manifest(sealed, shop, job_id)
            waiting[job_id] = asyncio.Event()
            start = time.perf_counter()
            await customer.SubmitJob(
                customer_jobs_pb2.SubmitJobRequest(job_id=job_id, sealed_manifest=manifest), metadata=auth, timeout=30
            )
            try:
                await asyncio.wait_for(waiting[job_id].wait(), timeout=20)
                latencies.append((arrived[job_id] - start) * 1000)
            except TimeoutError:
                latencies.append(float("inf"))
            await asyncio.sleep(0.05)
        stream.cancel()
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    return latencies


async def _ramp(relay: Relay, tokens: list[str], steps: list[int], metrics_url: str) -> list[dict[str, float]]:
    crowd = Crowd(relay.address)
    results = []
    try:
        for target in steps:
            deadline = time.monotonic() + RAMP_TIMEOUT
            while len(crowd.calls) < target and time.monotonic() < deadline:
                for token in tokens[len(crowd.calls) : min(target, len(crowd.calls) + BATCH)]:
                    crowd.open(token)
                while _held(metrics_url) < len(crowd.calls) - crowd.failures and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
            held = _held(metrics_url)
            await asyncio.sleep(1.0)  # let connection set-up settle before measuring
            latencies = await _probe_latency(relay, PROBES)
            results.append(
                {
                    "streams": held,
                    "rss": relay.rss(),
                    "p50": percentile(latencies, 50),
                    "p99": percentile(latencies, 99),
                    "failures": crowd.failures,
                }
            )
            print(
                f"   {held} streams: RSS {relay.rss() / 2**20:.0f} MiB, notify p50 {results[-1]['p50']:.1f} ms "
                f"p99 {results[-1]['p99']:.1f} ms",
                flush=True,
            )
            if held < target:
                break
    finally:
        await crowd.close()
    return results


def _plot(results: list[dict[str, float]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["streams"] for r in results]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.plot(xs, [r["p50"] for r in results], "o-", label="p50")
    left.plot(xs, [r["p99"] for r in results], "s--", label="p99")
    left.set_xlabel("subscribed kiosks (SubscribeJobs streams)")
    left.set_ylabel("submit -> kiosk notified (ms)")
    left.set_title("Notification latency against subscribers")
    left.legend()
    left.grid(alpha=0.3)
    right.plot(xs, [r["rss"] / 2**20 for r in results], "o-", color="tab:green")
    right.set_xlabel("subscribed kiosks")
    right.set_ylabel("relay RSS (MiB)")
    right.set_title("Relay memory against subscribers")
    right.grid(alpha=0.3)
    return save_plot(fig, "subscriptions")


def run(maximum: int = 10_000) -> list[dict[str, Any]]:
    steps = [s for s in (0, 1000, 2500, 5000, 7500, 10_000) if s <= maximum]
    with pg_database() as url, tempfile.TemporaryDirectory(prefix="cloudtab-bench-") as tmp:
        metrics_port = free_port()
        relay = Relay(
            Path(tmp) / "relay",
            url,
            env={"CLOUDTAB_RELAY_HEARTBEAT_SECONDS": "60"},
            args=("--metrics-listen", f"127.0.0.1:{metrics_port}"),
        )
        try:
            tokens = _insert_shops(url, maximum)
            results = asyncio.run(_ramp(relay, tokens, steps, f"http://127.0.0.1:{metrics_port}/metrics"))
        finally:
            relay.stop()
    plot = _plot(results)
    base, top = results[0], results[-1]
    at_1000 = next((r for r in results if r["streams"] >= 1000), top)
    per_stream = (top["rss"] - base["rss"]) / top["streams"] if top["streams"] else float("nan")
    return [
        {
            "figure": f"SubscribeJobs streams one relay process held (tried {maximum:,}; PostgreSQL)",
            "value": top["streams"],
            "unit": "streams",
            "baseline": None,
            "ratio": None,
            "target": ">= 10,000",
            "plot": plot,
        },
        {
            "figure": f"relay RSS holding {top['streams']:,} streams (baseline: no stream)",
            "value": top["rss"] / 2**20,
            "unit": "MiB",
            "baseline": base["rss"] / 2**20,
            "ratio": top["rss"] / base["rss"],
            "target": "<= 1,024",
            "plot": plot,
        },
        {
            "figure": "relay memory per held stream",
            "value": per_stream / 1024,
            "unit": "KiB",
            "baseline": None,
            "ratio": None,
            "target": "<= 64",
        },
        {
            "figure": f"notification latency p50 with {at_1000['streams']:,} subscribed kiosks "
            "(baseline: no other kiosk)",
            "value": at_1000["p50"],
            "unit": "ms",
            "baseline": base["p50"],
            "ratio": at_1000["p50"] / base["p50"] if base["p50"] else None,
            "target": "<= 50",
            "plot": plot,
            "n": PROBES,
        },
        {
            "figure": f"notification latency p99 with {at_1000['streams']:,} subscribed kiosks "
            "(baseline: no other kiosk)",
            "value": at_1000["p99"],
            "unit": "ms",
            "baseline": base["p99"],
            "ratio": at_1000["p99"] / base["p99"] if base["p99"] else None,
            "target": "<= 200",
            "plot": plot,
            "n": PROBES,
        },
        {
            "figure": f"notification latency p99 with {top['streams']:,} subscribed kiosks",
            "value": top["p99"],
            "unit": "ms",
            "baseline": base["p99"],
            "ratio": top["p99"] / base["p99"] if base["p99"] else None,
            "target": "<= 500",
            "plot": plot,
            "n": PROBES,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=10_000)
    args = parser.parse_args()
    for row in run(args.max):
        print(f"{row['figure']}: {row['value']:.1f} {row['unit']}")


if __name__ == "__main__":
    main()
