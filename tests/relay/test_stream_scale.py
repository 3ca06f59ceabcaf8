"""A burst of SubscribeJobs streams on a PostgreSQL relay with a tiny connection pool.

300 kiosk streams (30 shops, 10 streams each) open at once against a relay whose
pool is 2 connections and no overflow. Every stream must get its replay (the
shop's queued job) and then a live event (a second job), with nothing failing:
stream set-up queues for the pool instead of timing out in it, and idle streams
(heartbeats every second) cost no query each.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
from cloudtab.v1 import common_pb2, shop_jobs_pb2, shop_jobs_pb2_grpc

from tests.fixtures.services import service_missing
from tests.relay.helpers import Kiosk, new_public_key, submitted_job

SHOPS = 30
STREAMS_PER_SHOP = 10
STREAMS_PER_CHANNEL = 100
DEADLINE = 60.0
IDLE_WINDOW = 4.0  # seconds; the test relay heartbeats every second
STATS_LAG = 2.0  # busy backends report their counts to pg_stat_database about once a second


def _insert_shops(database_url: str, count: int) -> tuple[list[tuple[str, str, str]], bytes]:
    """Enrolled shops written straight into the relay's schema: ([(shop_id, slug, token)], public key)."""
    import psycopg

    from relay_grpc.tokens import hash_token, new_token

    public = new_public_key()
    fingerprint = hashlib.sha256(public).digest()
    now = time.time()
    shops = [(uuid.uuid4().hex, f"scale-{n}", new_token()) for n in range(count)]
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO shops (id, slug, display_name, public_key, key_fingerprint, token_hash, kiosk_version,"
            " created_at, last_sequence) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 0)",
            [(i, slug, slug, public, fingerprint, hash_token(token), "0.1.0", now) for i, slug, token in shops],
        )
        cur.executemany(  # each shop's one kiosk (its key and token)
            "INSERT INTO kiosks (id, shop_id, label, public_key, key_fingerprint, token_hash, kiosk_version,"
            " created_at) VALUES (%s, %s, 'Counter 1', %s, %s, %s, %s, %s)",
            [(i, i, public, fingerprint, hash_token(token), "0.1.0", now) for i, _slug, token in shops],
        )
    return shops, public


def _transactions(database_url: str) -> int:
    """Transactions committed or rolled back in the database so far (all backends)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


class Stream:
    """One kiosk stream: the job ids of its events, in order, and how it ended."""

    def __init__(self) -> None:
        self.jobs: list[str] = []
        self.heartbeats = 0
        self.error: grpc.StatusCode | None = None


async def _follow(stub: shop_jobs_pb2_grpc.ShopJobsServiceStub, token: str, out: Stream) -> None:
    call = stub.SubscribeJobs(
        shop_jobs_pb2.SubscribeJobsRequest(after_sequence=0, kiosk_version="0.1.0"),
        metadata=(("authorization", f"Bearer {token}"),),
        timeout=DEADLINE * 3,
    )
    try:
        async for item in call:
            if item.WhichOneof("item") == "event":
                if item.event.job.state == common_pb2.JOB_STATE_QUEUED:
                    out.jobs.append(item.event.job.job_id)
            else:
                out.heartbeats += 1
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.CANCELLED:
            out.error = exc.code()


async def _until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.1)
    return check()


def test_burst_of_streams_on_a_tiny_pool(
    relay_factory: Any, make_pg_database: Callable[[], str], gcs_bucket: str
) -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        service_missing("psycopg (PostgreSQL driver)")
    database_url = make_pg_database()
    relay = relay_factory(
        name="relay-scale",
        database_url=database_url,
        gcs_bucket=gcs_bucket,
        env={"CLOUDTAB_DATABASE_POOL_SIZE": "2", "CLOUDTAB_DATABASE_MAX_OVERFLOW": "0"},
    )
    shops, public = _insert_shops(database_url, SHOPS)
    with relay.channel() as channel:
        kiosks = [Kiosk(channel, shop_id, slug, token, public) for shop_id, slug, token in shops]
        first = {k.slug: submitted_job(channel, k, [os.urandom(1024)]).job_id for k in kiosks}

        # The relay's own background work (reaper every second, the ticker) as a baseline.
        time.sleep(STATS_LAG)
        before = _transactions(database_url)
        time.sleep(IDLE_WINDOW)
        baseline = _transactions(database_url) - before

        async def scenario() -> tuple[list[tuple[str, Stream]], dict[str, str], int]:
            channels = [relay.aio_channel() for _ in range(SHOPS * STREAMS_PER_SHOP // STREAMS_PER_CHANNEL)]
            streams: list[tuple[Kiosk, Stream]] = []
            tasks = []
            for n in range(STREAMS_PER_SHOP):
                for i, kiosk in enumerate(kiosks):
                    out = Stream()
                    stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channels[(n * SHOPS + i) % len(channels)])
                    streams.append((kiosk, out))
                    tasks.append(asyncio.create_task(_follow(stub, kiosk.token, out)))
            try:
                await _until(lambda: all(s.jobs or s.error for _, s in streams), DEADLINE)
                # Live: a second job per shop, while every stream is open.
                second: dict[str, str] = {}
                for kiosk in kiosks:
                    second[kiosk.slug] = (await asyncio.to_thread(submitted_job, channel, kiosk, [b"x" * 512])).job_id
                await _until(lambda: all(len(s.jobs) >= 2 or s.error for _, s in streams), DEADLINE)
                # Idle: heartbeats every second, yet no transaction per stream.
                await asyncio.sleep(STATS_LAG)
                before = await asyncio.to_thread(_transactions, database_url)
                await asyncio.sleep(IDLE_WINDOW)
                idle_transactions = await asyncio.to_thread(_transactions, database_url) - before
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                for ch in channels:
                    await ch.close()
            return [(k.slug, s) for k, s in streams], second, idle_transactions

        streams, second, idle_transactions = asyncio.run(scenario())

    errors = [s.error for _, s in streams if s.error is not None]
    assert not errors, f"{len(errors)} of {len(streams)} streams failed: {set(errors)}\n{relay.log_tail()}"
    assert len(streams) == SHOPS * STREAMS_PER_SHOP
    for slug, stream in streams:
        # The replay (the queued job), then the live event of the second job, nothing else.
        assert stream.jobs == [first[slug], second[slug]], (slug, stream.jobs)
        assert stream.heartbeats >= 3, (slug, stream.heartbeats)  # 6 s idle, heartbeats every 1 s
    assert "QueuePool limit" not in relay.log_text()
    # Four heartbeats of 300 streams: the old relay made 2+ transactions per stream per
    # heartbeat (a token check, a last_seen write); the ticker a handful in all.
    print(f"transactions in {IDLE_WINDOW} s: {baseline} without streams, {idle_transactions} with")
    assert idle_transactions - baseline < SHOPS * STREAMS_PER_SHOP, (baseline, idle_transactions)
