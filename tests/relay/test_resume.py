"""SubscribeJobs resume: whatever the disconnect points, a kiosk that reconnects
with its last sequence gets every event exactly once (hypothesis)."""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import time
from collections.abc import Iterator

import grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay_grpc.config import RelayConfig
from relay_grpc.shops import ShopService
from relay_grpc.store.db import Database
from tests.relay.helpers import JS, CustomerJob, Kiosk, create_job, enroll

NEXT = {JS.JOB_STATE_QUEUED: JS.JOB_STATE_RECEIVED, JS.JOB_STATE_RECEIVED: JS.JOB_STATE_PRINTING}


def add_shop_in_process(data_dir) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Add a shop straight on the relay's SQLite file (much faster than the CLI)."""

    async def run() -> tuple[str, str]:
        config = RelayConfig(data_dir=data_dir)
        db = Database.open(config.resolved_database_url)
        try:
            return await ShopService(db, config).add_shop("Resume Shop")
        finally:
            await db.dispose()

    return asyncio.run(run())


class EventMaker:
    """Drives jobs through their states, recording the (job, state) of each event."""

    def __init__(self, channel: grpc.Channel, kiosk: Kiosk) -> None:
        self.channel, self.kiosk = channel, kiosk
        self.truth: list[tuple[str, int]] = []
        self.active: dict[str, int] = {}
        self.lock = threading.Lock()

    def make(self, n: int) -> None:
        with self.lock:
            for _ in range(n):
                self._one()

    def _one(self) -> None:
        movable = [j for j, s in self.active.items() if s in NEXT or s == JS.JOB_STATE_PRINTING]
        if not movable or len(self.active) < 2:
            job: CustomerJob = create_job(self.channel, self.kiosk, [3])
            job.upload(0, os.urandom(3))
            job.submit(b"m")
            self.active[job.job_id] = JS.JOB_STATE_QUEUED
            self.truth.append((job.job_id, JS.JOB_STATE_QUEUED))
            return
        job_id = movable[0]
        state = self.active[job_id]
        if state == JS.JOB_STATE_PRINTING:
            self.kiosk.complete(job_id)
            del self.active[job_id]
            self.truth.append((job_id, JS.JOB_STATE_COMPLETED))
        else:
            self.kiosk.update(job_id, NEXT[state])
            self.active[job_id] = NEXT[state]
            self.truth.append((job_id, NEXT[state]))


def read(kiosk: Kiosk, after: int, want: int | None, idle: float) -> list:  # type: ignore[no-untyped-def]
    """Read events after ``after``; stop after ``want`` events, or (want=None) at the
    first heartbeat, or after ``idle`` s without an event. Then drop the stream."""
    stream = kiosk.subscribe(after=after, timeout=30)
    items: queue.Queue = queue.Queue()

    def pump() -> None:
        try:
            for item in stream:
                items.put(item)
        except grpc.RpcError:
            pass
        items.put(None)

    threading.Thread(target=pump, daemon=True).start()
    events: list = []
    deadline = time.monotonic() + idle
    try:
        while want is None or len(events) < want:
            try:
                item = items.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                break
            if item.WhichOneof("item") == "heartbeat":
                if want is None:
                    break
                continue
            events.append(item.event)
            deadline = time.monotonic() + idle
    finally:
        stream.cancel()
    return events


def test_resume_exactly_once(relay) -> None:  # type: ignore[no-untyped-def]
    channel = relay.channel()

    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        segments=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 5)), min_size=1, max_size=4)
    )
    def check(segments: list[tuple[int, int, int]]) -> None:
        slug, code = add_shop_in_process(relay.data_dir)
        kiosk = enroll(channel, slug, code)
        maker = EventMaker(channel, kiosk)
        maker.make(1)
        got = read(kiosk, 0, want=1, idle=3)
        assert len(got) == 1
        cursor = got[-1].sequence
        for before, during, want in segments:
            maker.make(before)
            worker = threading.Thread(target=maker.make, args=(during,))
            worker.start()
            try:
                batch = read(kiosk, cursor, want=want, idle=1.0)
            finally:
                worker.join(30)
            got += batch
            if batch:
                cursor = batch[-1].sequence
        got += read(kiosk, cursor, want=None, idle=5)  # catch up to the first heartbeat
        seqs = [e.sequence for e in got]
        assert seqs == list(range(1, len(maker.truth) + 1)), seqs
        assert [(e.job.job_id, e.job.state) for e in got] == maker.truth
        for e in got:
            if e.job.state == JS.JOB_STATE_COMPLETED:
                assert e.job.sealed_manifest == b""

    try:
        check()
    finally:
        channel.close()


def test_replay_after_zero_and_heartbeats(relay) -> None:  # type: ignore[no-untyped-def]
    slug, code = add_shop_in_process(relay.data_dir)
    with relay.channel() as channel:
        kiosk = enroll(channel, slug, code)
        maker = EventMaker(channel, kiosk)
        maker.make(6)  # q1, q2, r1, p1, c1, r2 -> active: job2 (received)
        replay = read(kiosk, 0, want=None, idle=5)
        assert [(e.job.job_id, e.job.state) for e in replay] == [(j, s) for j, s in maker.active.items()]
        assert [e.sequence for e in replay] == [2, 6]  # each active job at its latest event
        start = time.monotonic()
        stream = kiosk.subscribe(after=6, timeout=10)
        first: Iterator = iter(stream)
        beat = next(first)
        assert beat.WhichOneof("item") == "heartbeat" and beat.heartbeat.latest_sequence == 6
        assert 0.3 < time.monotonic() - start < 3  # heartbeat 1 s, the first one jittered
        stream.cancel()
