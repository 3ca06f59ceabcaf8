"""Live streams: a shop's job events (SubscribeJobs) and one job's (WatchJob).

Each stream keeps a cursor (the last sequence sent) and reads the event log
after it whenever it is woken or a heartbeat is due, so a resume gets exactly
the missed events, none twice, and a lost notification only delays. No grpc.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence

from relay_grpc import metrics
from relay_grpc.config import RelayConfig
from relay_grpc.errors import Unauthenticated
from relay_grpc.events import Broker, job_scope, shop_scope
from relay_grpc.jobs import JobService
from relay_grpc.shops import ShopService
from relay_grpc.store import crud
from relay_grpc.store.db import Database
from relay_grpc.store.models import JobEvent, Shop
from relay_grpc.views import (
    ACTIVE_STATES,
    EventView,
    FileView,
    HeartbeatView,
    JobState,
    JobView,
)

log = logging.getLogger(__name__)

BATCH = 500
StreamItem = EventView | HeartbeatView


class StreamService:
    """Builds the event streams of shops and customers."""

    def __init__(
        self,
        db: Database,
        broker: Broker,
        shops: ShopService,
        jobs: JobService,
        config: RelayConfig,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.broker = broker
        self.shops = shops
        self.jobs = jobs
        self.config = config
        self.clock = clock

    async def shop_stream(self, shop: Shop, after_sequence: int, kiosk_version: str) -> AsyncIterator[StreamItem]:
        """Replay (after 0) or resume (after N), then live events and heartbeats.

        Raises:
            FailedPrecondition: kiosk older than ``min_kiosk_version``.
            Unauthenticated: the shop was revoked or re-enrolled while streaming.
            Unavailable: the relay is shutting down (reconnect with the last sequence).
        """
        self.shops.check_kiosk_version(kiosk_version)
        sub = self.broker.subscribe(shop_scope(shop.id))
        self.shops.presence.add(shop.id)
        metrics.SUBSCRIPTIONS.labels(kind="shop").inc()
        try:
            await self.shops.set_seen(shop.id, True)
            cursor = max(after_sequence, 0)
            async with self.db.session() as session:
                row = await crud.get_shop(session, shop_id=shop.id)
                latest = row.last_sequence if row else 0
                oldest = await crud.oldest_shop_sequence(session, shop_id=shop.id)
                # A fresh start, a cursor from before the pruned log or from a reset relay: replay.
                replay = cursor == 0 or cursor > latest or (oldest is not None and cursor < oldest - 1)
                if replay:
                    events = await crud.latest_shop_events_of_jobs(
                        session, shop_id=shop.id, job_states=[s.value for s in ACTIVE_STATES], upto=latest
                    )
                    views = await self._views(session, events, shop_stream=True)
                    cursor = latest
            if replay:
                for view in views:
                    yield view
            # Spread the heartbeats of streams that connected together (a relay restart).
            last_beat = self.clock() - random.uniform(0, self.config.heartbeat_seconds / 2)
            while True:
                for view in sub.take_pending(cursor):
                    cursor = view.sequence
                    yield view
                if sub.needs_read:
                    sub.needs_read = False
                    async with self.db.session() as session:
                        events = await crud.shop_events_after(session, shop_id=shop.id, after=cursor, limit=BATCH)
                        views = await self._views(session, events, shop_stream=True)
                    for view in views:
                        cursor = view.sequence
                        yield view
                    if len(events) == BATCH:
                        sub.needs_read = True
                        continue
                now = self.clock()
                if now - last_beat >= self.config.heartbeat_seconds:
                    if not await self.shops.still_valid(shop.id, shop.token_hash):
                        raise Unauthenticated("shop token revoked")
                    if self.db.is_postgres:  # other relays judge "online" by last_seen_at
                        await self.shops.set_seen(shop.id, True)
                    yield HeartbeatView(server_time=now, latest_sequence=cursor)
                    last_beat = now
                await sub.wait(max(0.0, self.config.heartbeat_seconds - (self.clock() - last_beat)))
        finally:
            sub.close()
            metrics.SUBSCRIPTIONS.labels(kind="shop").dec()
            if self.shops.presence.remove(shop.id) == 0:
                try:
                    await self.shops.set_seen(shop.id, False)
                except Exception as exc:  # noqa: BLE001 - best effort on the way out
                    log.debug("could not clear presence of shop=%s: %s", shop.id, type(exc).__name__)

    async def job_stream(self, job_id: str, token: str | None, after_sequence: int) -> AsyncIterator[StreamItem]:
        """The job's current state (after 0) or missed events (after N), then changes;
        ends after a terminal state.

        Raises:
            Unauthenticated: not this job's customer token.
            Unavailable: the relay is shutting down.
        """
        await self.jobs.authorize_customer(job_id, token)
        sub = self.broker.subscribe(job_scope(job_id))
        metrics.SUBSCRIPTIONS.labels(kind="job").inc()
        try:
            cursor = max(after_sequence, 0)
            if cursor == 0:
                async with self.db.session() as session:
                    job = await crud.get_job(session, job_id=job_id)
                    files = (await crud.get_job_files(session, job_ids=[job_id]))[job_id]
                if job is None:
                    return
                cursor = job.last_sequence
                current = self.jobs_view(job, files)
                yield EventView(sequence=cursor, job=current, event_time=job.updated_at)
                if current.state.terminal:
                    return
            last_beat = self.clock()
            while True:
                views = sub.take_pending(cursor)
                if sub.needs_read:
                    sub.needs_read = False
                    async with self.db.session() as session:
                        events = await crud.job_events_after(session, job_id=job_id, after=cursor, limit=BATCH)
                        views += await self._views(session, events, shop_stream=False)
                for view in views:
                    if view.sequence <= cursor:
                        continue
                    cursor = view.sequence
                    yield view
                    if view.job.state.terminal:
                        return
                now = self.clock()
                if now - last_beat >= self.config.heartbeat_seconds:
                    yield HeartbeatView(server_time=now, latest_sequence=cursor)
                    last_beat = now
                await sub.wait(max(0.0, self.config.heartbeat_seconds - (self.clock() - last_beat)))
        finally:
            sub.close()
            metrics.SUBSCRIPTIONS.labels(kind="job").dec()

    @staticmethod
    def jobs_view(job, files) -> JobView:  # type: ignore[no-untyped-def]
        """Current snapshot without manifest (customer side)."""
        from relay_grpc.jobs import job_view

        return job_view(job, files, with_manifest=False)

    async def _views(self, session, events: Sequence[JobEvent], *, shop_stream: bool) -> list[EventView]:  # type: ignore[no-untyped-def]
        """Event rows -> EventViews: the job as it was after each event."""
        if not events:
            return []
        ids = [e.job_id for e in events]
        jobs = await crud.get_jobs(session, job_ids=ids)
        files = await crud.get_job_files(session, job_ids=ids)
        out: list[EventView] = []
        for e in events:
            job = jobs[e.job_id]
            state = JobState(e.state)
            manifest = job.sealed_manifest if shop_stream and state.active else None
            view = JobView(
                job_id=job.id,
                job_code=job.job_code,
                state=state,
                reason=e.reason,
                files=tuple(FileView(f.file_index, f.size, f.committed_size) for f in files[job.id]),
                key_fingerprint=job.key_fingerprint,
                created_at=job.created_at,
                submitted_at=job.submitted_at,
                expires_at=job.expires_at,
                updated_at=e.created_at,
                sealed_manifest=manifest,
            )
            seq = e.shop_sequence if shop_stream else e.job_sequence
            out.append(EventView(sequence=int(seq or 0), job=view, event_time=e.created_at))
        return out
