"""Live streams: a shop's job events (SubscribeJobs) and one job's (WatchJob).

Each stream keeps a cursor (the last sequence sent) and reads the event log
after it whenever it is woken or a heartbeat is due, so a resume gets exactly
the missed events, none twice, and a lost notification only delays. A
heartbeat is built once per scope, sequence and round and shared by the
streams that send it (``relay_grpc.beats``). No grpc.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence

from relay_grpc import metrics
from relay_grpc.beats import BeatBook
from relay_grpc.config import RelayConfig
from relay_grpc.errors import Reason, RelayError
from relay_grpc.events import Broker, job_scope, shop_scope
from relay_grpc.jobs import JobService
from relay_grpc.shops import ShopService
from relay_grpc.store import crud
from relay_grpc.store.db import Database
from relay_grpc.store.models import JobEvent, Shop
from relay_grpc.ticker import StreamTicker, Watch
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
        self.ticker = StreamTicker(db, shops, config, clock=clock)
        self.job_beats = BeatBook()

    async def shop_stream(self, shop: Shop, after_sequence: int, kiosk_version: str) -> AsyncIterator[StreamItem]:
        """Replay (after 0) or resume (after N), then live events and heartbeats.

        Set-up is one pooled connection under ``db.slots`` (sequence bounds, then the
        log once); heartbeats, revocation checks and ``last_seen_at`` cost this stream
        no query: the relay's ``StreamTicker`` does them for every stream at once.

        Raises:
            RelayError: KIOSK_TOO_OLD, TOKEN_INVALID (the shop was revoked or re-enrolled
                while streaming), SHUTTING_DOWN (reconnect with the last sequence).
        """
        self.shops.check_kiosk_version(kiosk_version)
        sub = self.broker.subscribe(shop_scope(shop.id))
        watch = Watch(shop.id, shop.token_hash, sub, self.clock())
        self.shops.presence.add(shop.id)
        self.ticker.add(watch)
        metrics.SUBSCRIPTIONS.labels(kind="shop").inc()
        try:
            cursor = max(after_sequence, 0)
            sub.needs_read = False  # wake-ups from now on set it again
            async with self.db.slots, self.db.session() as session:
                bounds = await crud.shop_sequence_bounds(session, shop_id=shop.id)
                latest, oldest = bounds if bounds is not None else (0, None)
                # A fresh start, a cursor from before the pruned log or from a reset relay: replay.
                replay = cursor == 0 or cursor > latest or (oldest is not None and cursor < oldest - 1)
                if replay:
                    events = await crud.latest_shop_events_of_jobs(
                        session, shop_id=shop.id, job_states=[s.value for s in ACTIVE_STATES], upto=latest
                    )
                else:
                    events = await crud.shop_events_after(session, shop_id=shop.id, after=cursor, limit=BATCH)
                    sub.needs_read = sub.needs_read or len(events) == BATCH
                views = await self._views(session, events, shop_stream=True)
            for view in views:
                yield view
            if replay:
                cursor = latest
            elif views:
                cursor = views[-1].sequence
            watch.cursor = cursor
            while True:
                if watch.revoked:
                    raise RelayError(Reason.TOKEN_INVALID, "shop token revoked")
                for view in sub.take_pending(cursor):
                    cursor = watch.cursor = view.sequence
                    yield view
                if sub.needs_read:
                    sub.needs_read = False
                    async with self.db.slots, self.db.session() as session:
                        events = await crud.shop_events_after(session, shop_id=shop.id, after=cursor, limit=BATCH)
                        views = await self._views(session, events, shop_stream=True)
                    for view in views:
                        cursor = watch.cursor = view.sequence
                        yield view
                    if len(events) == BATCH:
                        sub.needs_read = True
                        continue
                if watch.beat_due:
                    watch.beat_due = False
                    beat = self.ticker.beat(shop.id, cursor)
                    watch.last_beat = beat.server_time
                    yield beat
                await sub.wait(None)
        finally:
            sub.close()
            self.ticker.discard(watch)
            metrics.SUBSCRIPTIONS.labels(kind="shop").dec()
            self.shops.presence.remove(shop.id)

    async def job_stream(self, job_id: str, token: str | None, after_sequence: int) -> AsyncIterator[StreamItem]:
        """The job's current state (after 0) or missed events (after N), then changes;
        ends after a terminal state.

        Raises:
            RelayError: TOKEN_INVALID (not this job's customer token), SHUTTING_DOWN.
        """
        # Subscribe first, then read: anything committed after the read wakes the stream.
        sub = self.broker.subscribe(job_scope(job_id))
        metrics.SUBSCRIPTIONS.labels(kind="job").inc()
        try:
            sub.needs_read = False
            job, files = await self.jobs.authorize_customer(job_id, token)
            cursor = max(after_sequence, 0)
            if cursor == 0:
                cursor = job.last_sequence
                current = self.jobs_view(job, files)
                yield EventView(sequence=cursor, job=current, event_time=job.updated_at)
                if current.state.terminal:
                    return
            else:
                sub.needs_read = True  # a resume: the log after the cursor
            next_beat = self._next_beat_slot(self.clock())
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
                if now >= next_beat * self.config.heartbeat_seconds:
                    yield self.job_beats.beat(next_beat, job_id, cursor, now)
                    next_beat = self._next_beat_slot(now)
                await sub.wait(max(0.0, next_beat * self.config.heartbeat_seconds - self.clock()))
        finally:
            sub.close()
            metrics.SUBSCRIPTIONS.labels(kind="job").dec()

    def _next_beat_slot(self, now: float) -> int:
        """Job streams beat on one grid (multiples of the heartbeat interval), so all
        streams of a job beat together and share one heartbeat per slot; the first
        comes at most one interval after opening, the later ones one interval apart."""
        return math.floor(now / self.config.heartbeat_seconds) + 1

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
                kiosk_statement=e.kiosk_statement or b"",
            )
            seq = e.shop_sequence if shop_stream else e.job_sequence
            out.append(EventView(sequence=int(seq or 0), job=view, event_time=e.created_at))
        return out
