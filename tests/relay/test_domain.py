"""The relay's domain services in process, on SQLite, with an injected clock.

No gRPC and no sleeps: time moves only when a test calls ``clock.advance``. Covers
the job state machine (the UpdateJob table of docs/api.md), expiry, event pruning
and the replay of a pruned cursor, revocation and the stream ticker. RPC-level
behaviour is in tests/contract (``build_server`` on port 0).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from relay_grpc.cli import ensure_schema
from relay_grpc.config import RelayConfig
from relay_grpc.errors import Reason, RelayError
from relay_grpc.events import InProcessBroker
from relay_grpc.jobs import EXPIRED_REASON, REVOKED_REASON, JobService
from relay_grpc.reaper import Reaper
from relay_grpc.servicers.convert import encoded_once
from relay_grpc.shops import ShopService
from relay_grpc.store.blobs import open_blob_store
from relay_grpc.store.db import Database
from relay_grpc.streams import StreamService
from relay_grpc.transfers import TransferService
from relay_grpc.views import EventView, HeartbeatView, JobState
from tests.relay.helpers import new_public_key


class Clock:
    """Time that moves only when told."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclasses.dataclass
class Domain:
    clock: Clock
    config: RelayConfig
    db: Database
    shops: ShopService
    jobs: JobService
    transfers: TransferService
    streams: StreamService
    reaper: Reaper

    async def shop(self, name: str = "Domain Shop") -> tuple[Any, str]:
        """An enrolled shop row and its token."""
        _slug, code = await self.shops.add_shop(name)
        shop, _profile, token = await self.shops.enroll(code, new_public_key(), "0.1.0")
        return shop, token

    async def job(self, shop: Any, *, submit: bool = True, size: int = 10) -> tuple[str, str]:
        """(job id, customer token) of an uploaded job, submitted unless told not to."""
        view, token, _ = await self.jobs.create_job(
            shop_slug=shop.slug, file_sizes=[size], key_fingerprint=shop.key_fingerprint, peer="test"
        )
        if submit:
            upload = await self.transfers.begin_upload(view.job_id, token, 0, 0)
            await upload.append(b"x" * size)
            await upload.close()
            await self.jobs.submit(view.job_id, token, b"sealed")
        return view.job_id, token

    async def state(self, job_id: str) -> JobState:
        return (await self.jobs.view(job_id, with_manifest=False)).state


def run(tmp_path: Path, scenario: Callable[[Domain], Awaitable[None]], **settings: Any) -> None:
    """Build the services on a fresh SQLite database and run ``scenario`` on one loop."""
    clock = Clock()
    config = RelayConfig(
        **{
            "data_dir": tmp_path,
            "create_job_rate_per_minute": 0,
            "heartbeat_seconds": 10.0,
            "retention_seconds": 1800,
            "upload_retention_seconds": 600,
            "event_retention_seconds": 3600,
            **settings,
        }
    )
    ensure_schema(config)

    async def main() -> None:
        db = Database.open(config.resolved_database_url)
        blobs = open_blob_store(gcs_bucket=None, data_dir=config.resolved_data_dir)
        broker = InProcessBroker()
        shops = ShopService(db, config, clock=clock)
        jobs = JobService(db, blobs, broker, config, clock=clock)
        domain = Domain(
            clock,
            config,
            db,
            shops,
            jobs,
            TransferService(db, blobs, jobs, config, clock=clock),
            StreamService(db, broker, shops, jobs, config, clock=clock),
            Reaper(db, blobs, jobs, config, clock=clock),
        )
        try:
            await scenario(domain)
        finally:
            await broker.close()
            await blobs.close()
            await db.dispose()

    asyncio.run(main())


async def _reason(call: Awaitable[Any]) -> tuple[Reason, dict[str, str]]:
    with pytest.raises(RelayError) as caught:
        await call
    return caught.value.reason, caught.value.metadata


# ---- the job state machine: UpdateJob, Complete, Reject, Cancel --------------------

ACT: dict[str, Callable[[Domain, Any, str, str], Awaitable[Any]]] = {
    "received": lambda d, shop, job, _t: d.jobs.update(shop.id, job, JobState.RECEIVED),
    "printing": lambda d, shop, job, _t: d.jobs.update(shop.id, job, JobState.PRINTING),
    "completed": lambda d, shop, job, _t: d.jobs.complete(shop.id, job),
    "rejected": lambda d, shop, job, _t: d.jobs.reject(shop.id, job, "printer"),
    "cancelled": lambda d, shop, job, token: d.jobs.cancel(job, token),
}


async def _bring_to(d: Domain, shop: Any, state: str) -> tuple[str, str]:
    job, token = await d.job(shop, submit=state != "uploading")
    path = {
        "queued": [],
        "uploading": [],
        "received": ["received"],
        "printing": ["printing"],
        "completed": ["completed"],
        "rejected": ["rejected"],
        "cancelled": ["cancelled"],
    }
    if state == "expired":
        d.clock.advance(d.config.retention_seconds + 1)
        assert job in await d.jobs.expire_due()
        return job, token
    for step in path[state]:
        await ACT[step](d, shop, job, token)
    assert (await d.state(job)).value == state
    return job, token


# (current state, target) -> the new state, or the reason of the refusal. This is the
# table published in shop_jobs.proto / docs/api.md for UpdateJob.
UPDATE_TABLE = {
    ("queued", "received"): "received",
    ("queued", "printing"): "printing",
    ("received", "received"): "received",
    ("received", "printing"): "printing",
    ("printing", "received"): Reason.JOB_STATE_CONFLICT,
    ("printing", "printing"): "printing",
    ("uploading", "received"): Reason.JOB_STATE_CONFLICT,
    ("uploading", "printing"): Reason.JOB_STATE_CONFLICT,
    ("completed", "received"): Reason.JOB_TERMINAL,
    ("completed", "printing"): Reason.JOB_TERMINAL,
    ("rejected", "received"): Reason.JOB_TERMINAL,
    ("rejected", "printing"): Reason.JOB_TERMINAL,
    ("cancelled", "received"): Reason.JOB_TERMINAL,
    ("cancelled", "printing"): Reason.JOB_TERMINAL,
    ("expired", "received"): Reason.JOB_EXPIRED,
    ("expired", "printing"): Reason.JOB_EXPIRED,
}


@pytest.mark.parametrize(("current", "target"), list(UPDATE_TABLE), ids=[f"{c}-to-{t}" for c, t in UPDATE_TABLE])
def test_update_job_follows_the_published_table(tmp_path: Path, current: str, target: str) -> None:
    expected = UPDATE_TABLE[(current, target)]

    async def scenario(d: Domain) -> None:
        shop, _ = await d.shop()
        job, token = await _bring_to(d, shop, current)
        if isinstance(expected, Reason):
            reason, metadata = await _reason(ACT[target](d, shop, job, token))
            assert (reason, metadata) == (expected, {"state": current})
            assert (await d.state(job)).value == current  # a refusal changes nothing
        else:
            assert (await ACT[target](d, shop, job, token)).state.value == expected

    run(tmp_path, scenario)


def test_the_table_in_the_docs_is_this_table() -> None:
    text = (Path(__file__).resolve().parents[2] / "protos" / "cloudtab" / "v1" / "shop_jobs.proto").read_text()
    for (current, target), expected in UPDATE_TABLE.items():
        if isinstance(expected, Reason):
            row = next(
                line
                for line in text.splitlines()
                if f"| {current.upper()}" in line
                or (current in ("completed", "rejected", "cancelled") and "| COMPLETED, REJECTED" in line)
            )
            assert expected.value in row, (current, target, row)


@pytest.mark.parametrize("ending", ["completed", "rejected", "cancelled"])
def test_ending_twice_is_job_terminal_and_deletes_at_once(tmp_path: Path, ending: str) -> None:
    async def scenario(d: Domain) -> None:
        shop, _ = await d.shop()
        job, token = await d.job(shop)
        ended = await ACT[ending](d, shop, job, token)
        assert ended.state.value == ending and ended.sealed_manifest is None
        assert await d.transfers.blobs.size(f"jobs/{job}/0") == 0  # ciphertext gone
        assert await _reason(ACT[ending](d, shop, job, token)) == (Reason.JOB_TERMINAL, {"state": ending})

    run(tmp_path, scenario)


def test_shop_cannot_finish_a_job_still_uploading(tmp_path: Path) -> None:
    async def scenario(d: Domain) -> None:
        shop, _ = await d.shop()
        job, token = await d.job(shop, submit=False)
        assert await _reason(d.jobs.complete(shop.id, job)) == (Reason.JOB_STATE_CONFLICT, {"state": "uploading"})
        assert (await d.jobs.cancel(job, token)).state == JobState.CANCELLED  # the customer can withdraw it

    run(tmp_path, scenario)


# ---- expiry ---------------------------------------------------------------------


def test_expiry_follows_the_clock_and_happens_once(tmp_path: Path) -> None:
    async def scenario(d: Domain) -> None:
        shop, _ = await d.shop()
        uploading, _ = await d.job(shop, submit=False)
        queued, _ = await d.job(shop)
        d.clock.advance(d.config.upload_retention_seconds - 1)
        assert await d.jobs.expire_due() == []
        d.clock.advance(2)
        assert await d.jobs.expire_due() == [uploading]
        d.clock.advance(d.config.retention_seconds)
        assert await d.jobs.expire_due() == [queued]
        assert await d.jobs.expire_due() == []
        view = await d.jobs.view(queued, with_manifest=True)
        assert (view.state, view.reason, view.sealed_manifest) == (JobState.EXPIRED, EXPIRED_REASON, None)

    run(tmp_path, scenario)


def test_one_reaper_pass_ends_many_jobs_with_consecutive_events(tmp_path: Path) -> None:
    """Expiry writes the events of all due jobs together: each shop-visible one gets the
    next shop sequence (no gap, none twice) and the job's next sequence; an upload that
    expires is not a shop event."""

    async def scenario(d: Domain) -> None:
        shop, token = await d.shop()
        queued = [(await d.job(shop))[0] for _ in range(3)]
        uploading, customer = await d.job(shop, submit=False)
        stream = d.streams.shop_stream(await d.shops.authenticate(token), 0, "0.1.0")
        cursor = max(e.sequence for e in await _take(stream, 3))
        await stream.aclose()
        d.clock.advance(d.config.retention_seconds + d.config.upload_retention_seconds)
        assert sorted(await d.jobs.expire_due()) == sorted([*queued, uploading])
        stream = d.streams.shop_stream(await d.shops.authenticate(token), cursor, "0.1.0")
        try:
            events = await _take(stream, 3)
        finally:
            await stream.aclose()
        assert [e.sequence for e in events] == [cursor + 1, cursor + 2, cursor + 3]
        assert sorted(e.job.job_id for e in events) == sorted(queued)
        assert {(e.job.state, e.job.reason) for e in events} == {(JobState.EXPIRED, EXPIRED_REASON)}
        watch = d.streams.job_stream(uploading, customer, 1)
        try:
            (ended,) = await _take(watch, 1)
        finally:
            await watch.aclose()
        assert (ended.sequence, ended.job.state) == (2, JobState.EXPIRED)

    run(tmp_path, scenario)


def test_upload_progress_keeps_a_job_from_expiring(tmp_path: Path) -> None:
    async def scenario(d: Domain) -> None:
        shop, _ = await d.shop()
        job, token = await d.job(shop, submit=False, size=20)
        for _ in range(3):
            d.clock.advance(d.config.upload_retention_seconds - 10)
            upload = await d.transfers.begin_upload(job, token, 0, (await d.transfers.upload_offset(job, token, 0))[0])
            await upload.append(b"y")
            await upload.close()
            assert await d.jobs.expire_due() == []
        d.clock.advance(d.config.upload_retention_seconds + 1)
        assert await d.jobs.expire_due() == [job]

    run(tmp_path, scenario)


# ---- streams: pruning, replay, revocation, heartbeats ------------------------------


async def _take(stream: AsyncIterator[Any], count: int) -> list[Any]:
    return [await asyncio.wait_for(anext(stream), 5) for _ in range(count)]


def test_a_cursor_older_than_the_pruned_log_replays_active_jobs(tmp_path: Path) -> None:
    async def scenario(d: Domain) -> None:
        shop, token = await d.shop()
        done, _ = await d.job(shop)
        await d.jobs.complete(shop.id, done)
        old_cursor = 1
        d.clock.advance(d.config.event_retention_seconds + 1)
        assert await d.reaper.prune() == 1  # the completed job and its events are gone
        live, _ = await d.job(shop)
        stream = d.streams.shop_stream(await d.shops.authenticate(token), old_cursor, "0.1.0")
        try:
            (first,) = await _take(stream, 1)
            assert isinstance(first, EventView) and first.job.job_id == live
            assert first.job.state == JobState.QUEUED
        finally:
            await stream.aclose()

    run(tmp_path, scenario)


def test_resume_sends_exactly_the_missed_events(tmp_path: Path) -> None:
    async def scenario(d: Domain) -> None:
        shop, token = await d.shop()
        first, _ = await d.job(shop)
        stream = d.streams.shop_stream(await d.shops.authenticate(token), 0, "0.1.0")
        (seen,) = await _take(stream, 1)
        await stream.aclose()
        await d.jobs.update(shop.id, first, JobState.RECEIVED)
        second, _ = await d.job(shop)
        stream = d.streams.shop_stream(await d.shops.authenticate(token), seen.sequence, "0.1.0")
        try:
            missed = await _take(stream, 2)
            assert [(e.job.job_id, e.job.state) for e in missed] == [
                (first, JobState.RECEIVED),
                (second, JobState.QUEUED),
            ]
            assert [e.sequence for e in missed] == [seen.sequence + 1, seen.sequence + 2]
        finally:
            await stream.aclose()

    run(tmp_path, scenario)


def test_ticker_sends_heartbeats_by_the_clock_and_ends_revoked_streams(tmp_path: Path) -> None:
    async def scenario(d: Domain) -> None:
        shop, token = await d.shop()
        job, _ = await d.job(shop)
        stream = d.streams.shop_stream(await d.shops.authenticate(token), 0, "0.1.0")
        ticker = d.streams.ticker
        try:
            await _take(stream, 1)
            pending = asyncio.ensure_future(anext(stream))
            await ticker.tick()  # no time has passed: nothing due
            await asyncio.sleep(0)
            assert not pending.done()
            d.clock.advance(d.config.heartbeat_seconds)
            await ticker.tick()
            beat = await asyncio.wait_for(pending, 5)
            assert isinstance(beat, HeartbeatView) and beat.server_time == d.clock.now

            ended = await d.jobs.end_shop_jobs(await d.shops.revoke(shop.slug))
            assert ended == [job]
            assert (await d.jobs.view(job, with_manifest=False)).reason == REVOKED_REASON
            await ticker.tick()  # the ticker sees the token is gone
            with pytest.raises(RelayError) as caught:
                while True:  # the rejection event may come first
                    await asyncio.wait_for(anext(stream), 5)
            assert caught.value.reason == Reason.TOKEN_INVALID
        finally:
            await stream.aclose()

    run(tmp_path, scenario)


STREAMS_PER_SCOPE = 20


def _count_builds(beats: list[HeartbeatView], kind: str) -> int:
    """How many wire messages the servicers build to send ``beats`` (one per stream each)."""
    builds: list[HeartbeatView] = []

    def build(beat: HeartbeatView) -> object:
        builds.append(beat)
        return object()

    for beat in beats:
        encoded_once(beat, kind, build)
    return len(builds)


def test_one_beat_builds_one_message_for_all_streams_of_a_shop(tmp_path: Path) -> None:
    """N caught-up streams of one shop share one heartbeat per beat, whose wire message
    is built once, not once per stream."""

    async def scenario(d: Domain) -> None:
        shop, token = await d.shop()
        await d.job(shop)
        row = await d.shops.authenticate(token)
        streams = [d.streams.shop_stream(row, 0, "0.1.0") for _ in range(STREAMS_PER_SCOPE)]
        try:
            for stream in streams:
                await _take(stream, 1)  # the replay
            pending = [asyncio.ensure_future(anext(s)) for s in streams]
            d.clock.advance(d.config.heartbeat_seconds)
            await d.streams.ticker.tick()
            beats = await asyncio.wait_for(asyncio.gather(*pending), 5)
            assert all(isinstance(b, HeartbeatView) and b.server_time == d.clock.now for b in beats)
            assert {b.latest_sequence for b in beats} == {beats[0].latest_sequence}
            assert len({id(b) for b in beats}) == 1, "one heartbeat per shop per beat"
            assert _count_builds(beats, "shop_beat") == 1
        finally:
            for stream in streams:
                await stream.aclose()

    run(tmp_path, scenario)


def test_one_beat_builds_one_message_for_all_watchers_of_a_job(tmp_path: Path) -> None:
    """Job streams beat on one grid, so N watchers of a job share one heartbeat per beat."""

    async def scenario(d: Domain) -> None:
        shop, _token = await d.shop()
        job, customer = await d.job(shop)
        streams = [d.streams.job_stream(job, customer, 0) for _ in range(STREAMS_PER_SCOPE)]
        try:
            for stream in streams:
                await _take(stream, 1)  # the current state
            d.clock.advance(d.config.heartbeat_seconds / 4)
            pending = []
            for stream in streams:  # each starts waiting for its first beat at another time
                pending.append(asyncio.ensure_future(anext(stream)))
                await asyncio.sleep(0.005)
                d.clock.advance(d.config.heartbeat_seconds / (4 * STREAMS_PER_SCOPE))
            d.clock.advance(d.config.heartbeat_seconds)
            beats = await asyncio.wait_for(asyncio.gather(*pending), 5)
            assert all(isinstance(b, HeartbeatView) for b in beats)
            assert len({id(b) for b in beats}) == 1, "one heartbeat per job per beat"
            assert _count_builds(beats, "job_beat") == 1
        finally:
            for stream in streams:
                await stream.aclose()

    run(tmp_path, scenario, heartbeat_seconds=0.2)


def test_old_kiosk_and_missing_version_are_refused_before_streaming(tmp_path: Path) -> None:
    async def scenario(d: Domain) -> None:
        _shop, token = await d.shop()
        row = await d.shops.authenticate(token)
        assert (await _reason(anext(d.streams.shop_stream(row, 0, "0.0.9"))))[0] == Reason.KIOSK_TOO_OLD
        assert await _reason(anext(d.streams.shop_stream(row, 0, ""))) == (
            Reason.INVALID_REQUEST,
            {"field": "kiosk_version"},
        )

    run(tmp_path, scenario)
