"""Load: 1,000 subscribed kiosks and 50 customers uploading for 60 s against one
relay on PostgreSQL (a throwaway cluster), all on 127.0.0.1.

Each customer loops: CreateJob for a random shop, upload 50-300 KB of
ciphertext, SubmitJob. Every kiosk holds a SubscribeJobs stream and stamps the
arrival of each QUEUED event; latency = submit reply -> event. Reported: calls
and errors by status, lost notifications (submitted, never notified within a
grace period), p50/p99 latency against a baseline of one kiosk and one customer
in the same run, relay RSS idle / with the streams / peak under load, and relay CPU
per submitted job under that load. The full load's generator runs in its own
process (spawn), so this process only samples the relay.

Usage: python -m bench.load [SECONDS]   (bounded; stops by itself)
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import grpc

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "generated"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from cloudtab.v1 import customer_jobs_pb2 as cj
from cloudtab.v1 import customer_jobs_pb2_grpc, shop_jobs_pb2, shop_jobs_pb2_grpc

import envelope
from bench.common import RssSampler, cpu_seconds, percentile, rss_bytes
from tests.faults.procs import CHANNEL_OPTIONS, PgCluster, RelayProcess

GRACE = 5.0


def add_shops(database_url: str, count: int) -> list[tuple[str, str]]:
    """``count`` shops with enrollment codes, straight on the relay's database."""
    from relay_grpc.config import RelayConfig
    from relay_grpc.shops import ShopService
    from relay_grpc.store.db import Database

    async def go() -> list[tuple[str, str]]:
        config = RelayConfig(database_url=database_url)
        db = Database.open(config.resolved_database_url)
        try:
            shops = ShopService(db, config)
            return [await shops.add_shop(f"Load Shop {i}") for i in range(count)]
        finally:
            await db.dispose()

    return asyncio.run(go())


class Load:
    """The asyncio side: kiosks, customers and the bookkeeping."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.errors: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.submitted: dict[str, float] = {}
        self.notified: dict[str, float] = {}
        self.subscribed = 0
        self.stop = asyncio.Event()

    def channels(self, n: int) -> list[grpc.aio.Channel]:
        return [
            grpc.aio.insecure_channel(self.address, options=CHANNEL_OPTIONS + [("grpc.use_local_subchannel_pool", 1)])
            for _ in range(n)
        ]

    async def enroll(
        self, channels: list[grpc.aio.Channel], shops: list[tuple[str, str]]
    ) -> list[tuple[str, str, bytes]]:
        """(slug, token, fingerprint) per shop, 50 enrollments at a time."""
        public = envelope.public_key_bytes(envelope.generate_private_key())
        gate = asyncio.Semaphore(50)

        async def one(i: int, slug: str, code: str) -> tuple[str, str, bytes]:
            async with gate:
                stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channels[i % len(channels)])
                reply = await stub.Enroll(
                    shop_jobs_pb2.EnrollRequest(enrollment_code=code, public_key=public, kiosk_version="0.1.0"),
                    timeout=60,
                )
                return slug, reply.shop_token, envelope.fingerprint(public)

        return list(await asyncio.gather(*(one(i, s, c) for i, (s, c) in enumerate(shops))))

    async def kiosk(self, channel: grpc.aio.Channel, token: str) -> None:
        stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
        call = stub.SubscribeJobs(
            shop_jobs_pb2.SubscribeJobsRequest(kiosk_version="0.1.0"), metadata=(("authorization", f"Bearer {token}"),)
        )
        first = True
        try:
            async for message in call:
                if first:
                    self.subscribed += 1
                    first = False
                if message.WhichOneof("item") == "event" and message.event.job.state == 2:
                    self.notified.setdefault(message.event.job.job_id, time.monotonic())
        except grpc.aio.AioRpcError as exc:
            if not self.stop.is_set():
                self.errors[f"SubscribeJobs {exc.code().name}"] += 1
        except asyncio.CancelledError:
            call.cancel()

    async def customer(self, channel: grpc.aio.Channel, shops: list[tuple[str, str, bytes]], seed: int) -> None:
        rng = random.Random(seed)
        stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
        while not self.stop.is_set():
            slug, _, fingerprint = rng.choice(shops)
            size = rng.randint(50_000, 300_000)
            step = "CreateJob"
            try:
                created = await stub.CreateJob(
                    cj.CreateJobRequest(shop_slug=slug, file_sizes=[size], key_fingerprint=fingerprint), timeout=30
                )
                self.calls[step] += 1
                md = (("authorization", f"Bearer {created.customer_token}"),)
                job_id = created.job.job_id
                data = os.urandom(size)
                messages = [cj.UploadFileRequest(header=cj.UploadFileHeader(job_id=job_id, file_index=0, offset=0))]
                messages += [cj.UploadFileRequest(data=data[p : p + 65552]) for p in range(0, size, 65552)]
                step = "UploadFile"
                await stub.UploadFile(iter(messages), metadata=md, timeout=60)
                self.calls[step] += 1
                step = "SubmitJob"
                # Timed from the call: the kiosk's event can arrive before SubmitJob's reply.
                submitted_at = time.monotonic()
                await stub.SubmitJob(
                    cj.SubmitJobRequest(job_id=job_id, sealed_manifest=os.urandom(400)), metadata=md, timeout=30
                )
                self.calls[step] += 1
                self.submitted[job_id] = submitted_at
            except grpc.aio.AioRpcError as exc:
                self.errors[f"{step} {exc.code().name}"] += 1
                await asyncio.sleep(0.1)

    async def run(
        self, shops: list[tuple[str, str]], customers: int, seconds: float, on_subscribed: Any = None
    ) -> dict[str, Any]:
        channels = self.channels(max(1, len(shops) // 50))
        enrolled = await self.enroll(channels, shops)
        kiosks = [
            asyncio.create_task(self.kiosk(channels[i % len(channels)], token))
            for i, (_, token, _) in enumerate(enrolled)
        ]
        deadline = time.monotonic() + 60
        while self.subscribed < len(kiosks) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if on_subscribed:
            on_subscribed(self.subscribed)
        cust_channels = self.channels(max(1, customers // 10))
        workers = [
            asyncio.create_task(self.customer(cust_channels[i % len(cust_channels)], enrolled, i))
            for i in range(customers)
        ]
        await asyncio.sleep(seconds)
        self.stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
        grace_end = time.monotonic() + GRACE
        while time.monotonic() < grace_end and any(j not in self.notified for j in self.submitted):
            await asyncio.sleep(0.1)
        for task in kiosks:
            task.cancel()
        await asyncio.gather(*kiosks, return_exceptions=True)
        for channel in channels + cust_channels:
            await channel.close()
        latencies = [(self.notified[j] - t) * 1000 for j, t in self.submitted.items() if j in self.notified]
        return {
            "latencies": latencies,
            "lost": sum(1 for j in self.submitted if j not in self.notified),
            "submitted": len(self.submitted),
            "errors": dict(self.errors),
            "calls": dict(self.calls),
            "subscribed": self.subscribed,
        }


def _generate(address: str, shops: list[tuple[str, str]], customers: int, seconds: float, out: Any) -> None:
    """The load generator, in its own process: puts ("subscribed", n) once the kiosks
    stream, then ("done", result)."""
    result = asyncio.run(
        Load(address).run(shops, customers, seconds, on_subscribed=lambda n: out.put(("subscribed", n)))
    )
    out.put(("done", result))


def generate_in_process(
    address: str, shops: list[tuple[str, str]], customers: int, seconds: float, on_subscribed: Any
) -> dict[str, Any]:
    """Run ``Load`` in a child process (spawn) so the generator's CPU is not this
    process's; ``on_subscribed`` runs here when its kiosks are all streaming."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    child = context.Process(target=_generate, args=(address, shops, customers, seconds, out), daemon=True)
    child.start()
    try:
        while True:
            kind, value = out.get(timeout=seconds + 600)
            if kind == "subscribed":
                on_subscribed(value)
            else:
                return dict(value)
    finally:
        child.join(30)
        if child.is_alive():
            child.kill()


def run(seconds: float | None = None, kiosks: int = 1000, customers: int = 50) -> list[dict[str, Any]]:
    """Baseline (1 kiosk, 1 customer, 5 s), then the full load; rows for ``python -m bench``."""
    seconds = seconds or float(os.environ.get("CLOUDTAB_LOAD_SECONDS", "60"))
    pg = PgCluster()
    workdir = Path(tempfile.mkdtemp(prefix="cloudtab-load-"))
    pg.init()
    pg.start()
    try:
        url = pg.create_database("load")
        relay = RelayProcess(
            workdir,
            name="load-relay",
            database_url=url,
            env={"CLOUDTAB_RELAY_CREATE_JOB_RATE": "0", "CLOUDTAB_RELAY_LOG_LEVEL": "WARNING"},
        )
        relay.start()
        try:
            assert relay.process is not None
            pid = relay.process.pid
            shops = add_shops(url, kiosks + 1)
            idle_rss = rss_bytes(pid)
            base = asyncio.run(Load(relay.address).run(shops[:1], 1, 5.0))
            rss_streams: list[int] = []
            cpu_from: list[float] = []

            def subscribed(_n: int) -> None:
                rss_streams.append(rss_bytes(pid))
                cpu_from.append(cpu_seconds(pid))

            with RssSampler(pid, interval=0.2) as sampler:
                full = generate_in_process(relay.address, shops[1:], customers, seconds, subscribed)
            relay_cpu = cpu_seconds(pid) - (cpu_from or [0.0])[0]
            alive = relay.process.poll() is None
        finally:
            relay.stop(10)
    finally:
        pg.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    p50, p99 = percentile(full["latencies"], 50), percentile(full["latencies"], 99)
    b50, b99 = percentile(base["latencies"], 50), percentile(base["latencies"], 99)
    errors = sum(full["errors"].values())
    mib = 1024 * 1024
    print(
        f"load: {full['subscribed']} kiosks subscribed, {customers} customers, {seconds:.0f} s: "
        f"{full['submitted']} jobs submitted, calls {full['calls']}, errors {full['errors']}, "
        f"lost {full['lost']}, p50 {p50:.1f} ms p99 {p99:.1f} ms (baseline p50 {b50:.1f} p99 {b99:.1f}), "
        f"RSS idle {idle_rss / mib:.0f} MiB, with streams {(rss_streams or [0])[0] / mib:.0f} MiB, "
        f"peak {sampler.peak / mib:.0f} MiB; relay alive {alive}",
        flush=True,
    )
    return [
        {
            "figure": "load: kiosks subscribed",
            "value": full["subscribed"],
            "unit": "streams",
            "baseline": kiosks,
            "ratio": full["subscribed"] / kiosks,
            "target": ">= 1000",
        },
        {
            "figure": "load: jobs submitted in the window",
            "value": full["submitted"],
            "unit": "jobs",
            "baseline": base["submitted"],
            "ratio": None,
            "target": None,
        },
        {"figure": "load: errors", "value": errors, "unit": "calls", "baseline": None, "ratio": None, "target": "<= 0"},
        {
            "figure": "load: lost notifications",
            "value": full["lost"],
            "unit": "jobs",
            "baseline": None,
            "ratio": None,
            "target": "<= 0",
        },
        {
            "figure": "load: submit -> kiosk event p50",
            "value": p50,
            "unit": "ms",
            "baseline": b50,
            "ratio": p50 / b50 if b50 else None,
            "target": None,
            "n": len(full["latencies"]),
        },
        {
            "figure": "load: submit -> kiosk event p99",
            "value": p99,
            "unit": "ms",
            "baseline": b99,
            "ratio": p99 / b99 if b99 else None,
            "target": None,
            "n": len(full["latencies"]),
        },
        {
            "figure": "load: relay CPU per submitted job under that load (create, upload 50-300 KB, submit, notify; "
            "the 1,000 streams' heartbeats included; generator in its own process)",
            "value": relay_cpu * 1000 / full["submitted"] if full["submitted"] else None,
            "unit": "ms/job",
            "baseline": None,
            "ratio": None,
            "target": None,
            "n": full["submitted"],
        },
        {
            "figure": "load: relay RSS with 1,000 streams",
            "value": (rss_streams or [0])[0] / mib,
            "unit": "MiB",
            "baseline": idle_rss / mib,
            "ratio": (rss_streams or [0])[0] / idle_rss if idle_rss else None,
            "target": None,
        },
        {
            "figure": "load: relay peak RSS under load",
            "value": sampler.peak / mib,
            "unit": "MiB",
            "baseline": idle_rss / mib,
            "ratio": sampler.peak / idle_rss if idle_rss else None,
            "target": None,
        },
    ]


if __name__ == "__main__":
    for row in run(float(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(f"{row['figure']}: {row['value']} {row['unit']}")
