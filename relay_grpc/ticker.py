"""One ticker per relay for every open SubscribeJobs stream.

A stream costs no query while idle: each pass (every ``min(heartbeat/2, 2 s)``)
reads the token hash and latest sequence of every shop streaming here in ONE
query, ends the streams of revoked or re-enrolled shops, wakes the streams
that are behind the log (a lost notification), and marks heartbeats due (all
streams of a shop due in one pass share one heartbeat: ``beats``, ``round``). It
also writes ``last_seen_at`` in batches: shops whose first stream opened or
last stream closed since the last pass, and (PostgreSQL, where other relays
judge ``Shop.online`` by it) every streaming shop once per heartbeat interval.
No grpc here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from relay_grpc.beats import BeatBook
from relay_grpc.config import RelayConfig
from relay_grpc.events import Subscription
from relay_grpc.shops import ShopService
from relay_grpc.store import crud, kiosk_rows
from relay_grpc.store.db import Database
from relay_grpc.views import HeartbeatView

log = logging.getLogger(__name__)

MAX_TICK_SECONDS = 2.0


class Watch:
    """What the ticker knows of one shop stream (kept small: one per stream)."""

    __slots__ = ("beat_due", "cursor", "last_beat", "revoked", "shop_id", "sub", "token_hash")

    def __init__(self, shop_id: str, token_hash: str | None, sub: Subscription, now: float) -> None:
        self.shop_id = shop_id
        self.token_hash = token_hash
        self.sub = sub
        self.cursor = -1  # -1 until the replay or resume is sent
        self.last_beat = now
        self.beat_due = False
        self.revoked = False


class StreamTicker:
    """Heartbeats, revocation, missed-notification checks and ``last_seen_at`` for
    all shop streams of this process, at a constant number of queries per pass."""

    def __init__(
        self, db: Database, shops: ShopService, config: RelayConfig, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.shops = shops
        self.clock = clock
        self.heartbeat = config.heartbeat_seconds
        self.interval = max(0.05, min(config.heartbeat_seconds / 2, MAX_TICK_SECONDS))
        self.beats = BeatBook()
        self.round = 0  # the pass number: heartbeats of one pass are shared
        self._watches: dict[str, set[Watch]] = {}
        self._changed: set[str] = set()
        self._refreshed_at = float("-inf")
        self._task: asyncio.Task[None] | None = None

    def add(self, watch: Watch) -> None:
        """A shop stream opened (starts the ticker if needed)."""
        watches = self._watches.setdefault(watch.shop_id, set())
        if not watches:
            self._changed.add(watch.shop_id)
        watches.add(watch)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="stream-ticker")

    def discard(self, watch: Watch) -> None:
        """A shop stream ended."""
        watches = self._watches.get(watch.shop_id)
        if watches is None:
            return
        watches.discard(watch)
        if not watches:
            del self._watches[watch.shop_id]
            self._changed.add(watch.shop_id)

    def beat(self, shop_id: str, cursor: int) -> HeartbeatView:
        """The heartbeat a due stream of ``shop_id`` at ``cursor`` sends: one per shop,
        sequence and pass, shared by all its streams."""
        return self.beats.beat(self.round, shop_id, cursor, self.clock())

    async def _run(self) -> None:
        while self._watches or self._changed:
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # the ticker must outlive any one failed pass
                log.exception("stream ticker pass failed")

    async def tick(self) -> None:
        """One pass: one SELECT for all streaming shops, at most one write transaction."""
        now = self.clock()
        self.round += 1
        ids = list(self._watches)
        states: dict[str, tuple[str | None, int]] | None = None
        kiosk_tokens: dict[str, set[str]] = {}
        if ids:
            try:
                async with self.db.session() as session:
                    states = await crud.shop_stream_states(session, shop_ids=ids)
                    kiosk_tokens = await kiosk_rows.active_token_hashes(session, shop_ids=ids)
            except Exception as exc:  # noqa: BLE001 - heartbeats go on; revocation is checked next pass
                log.warning("stream ticker could not read shop states (%s)", type(exc).__name__)
        for shop_id in ids:
            for watch in list(self._watches.get(shop_id, ())):
                if states is not None:
                    _token, latest = states.get(shop_id, (None, 0))
                    if watch.token_hash is None or watch.token_hash not in kiosk_tokens.get(shop_id, ()):
                        watch.revoked = True
                        watch.sub.poke()
                        continue
                    if 0 <= watch.cursor < latest:
                        watch.sub.wake()  # behind the log: a notification was lost or is late
                if now - watch.last_beat >= self.heartbeat:
                    watch.beat_due = True
                    watch.sub.poke()
        await self._flush_seen(now)

    async def _flush_seen(self, now: float) -> None:
        refresh = self.db.is_postgres and now - self._refreshed_at >= self.heartbeat
        changed, self._changed = self._changed, set()
        if refresh:
            seen = list(self._watches)
        else:
            seen = [shop_id for shop_id in changed if shop_id in self._watches]
        gone = [shop_id for shop_id in changed if shop_id not in self._watches]
        if not seen and not gone:
            return
        try:
            await self.shops.set_many_seen(seen, gone)
        except Exception as exc:  # noqa: BLE001 - last_seen_at is advisory; it expires by itself
            log.warning("could not record presence of %d shops (%s)", len(seen) + len(gone), type(exc).__name__)
            return
        if refresh:
            self._refreshed_at = now
