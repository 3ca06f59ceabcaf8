"""Event log writes and fan-out to the streams of this and other relays.

Every state change writes a ``JobEvent`` row in the same transaction as the
change (``record_event``). Notifications are only wake-ups: a woken stream
reads the log after its own cursor, so a lost or duplicated notification can
delay an event but never lose or repeat one.

A local change also hands its ready-made event to the local streams
(``Subscription.pending``), so the common case needs no database read; a
stream falls back to the log whenever the pending events do not continue its
cursor exactly.

Two brokers: ``InProcessBroker`` (SQLite, one process) and ``PostgresBroker``
(LISTEN/NOTIFY; ``pg_notify`` is sent inside the writing transaction, so it is
delivered on commit to every relay). On a lost LISTEN connection it reconnects,
LISTENs again and wakes every subscriber to re-read the log.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import logging
from collections.abc import Sequence
from typing import Protocol, Self

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from relay_grpc.errors import Reason, RelayError
from relay_grpc.store import crud
from relay_grpc.store.models import Job, JobEvent
from relay_grpc.views import EventView, JobView

log = logging.getLogger(__name__)

CHANNEL = "cloudtab_events"
# How long a stream waits for an event handed over out of order before reading the log.
GAP_GRACE = 0.1
_NOTIFY = sa.text("SELECT pg_notify(:channel, :payload)")
_NOTIFY_MANY = sa.text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS text[])) AS p")


@dataclasses.dataclass(frozen=True)
class Notification:
    """A committed event: which shop and job, and their new sequences."""

    shop_id: str
    job_id: str
    shop_sequence: int | None
    job_sequence: int


def shop_scope(shop_id: str) -> str:
    """Subscription scope of a shop's stream."""
    return "shop:" + shop_id


def job_scope(job_id: str) -> str:
    """Subscription scope of one job's stream."""
    return "job:" + job_id


class Subscription:
    """A wake-up flag for one stream; ``wait`` returns when something may have changed."""

    def __init__(self, broker: BaseBroker, scope: str) -> None:
        self.scope = scope
        self._broker = broker
        self._event = asyncio.Event()
        # Created on the first local event: most kiosk streams sit idle, and an empty
        # deque per stream is most of a stream's memory at 10,000 streams.
        self._pending: collections.deque[EventView] | None = None
        # True when the log must be read: at start, after a plain wake-up, a gap or a timeout.
        self.needs_read = True
        self._idle_waits = 0
        self._gap = False

    @property
    def pending(self) -> collections.deque[EventView]:
        """Local events not yet taken (bounded)."""
        if self._pending is None:
            self._pending = collections.deque(maxlen=256)
        return self._pending

    def wake(self) -> None:
        """Something in this scope changed (or the log must be re-read)."""
        self.needs_read = True
        self._event.set()

    def offer(self, event: EventView) -> None:
        """A ready-made event of this scope (local change); also wakes. Concurrent
        transactions commit in sequence order but may hand their events over in
        another order: those are put back in order here."""
        pending = self.pending
        if pending and pending[-1].sequence > event.sequence:
            if len(pending) == pending.maxlen:
                pending.popleft()  # a gap now: read from the log after GAP_GRACE
            index = len(pending)
            while index > 0 and pending[index - 1].sequence > event.sequence:
                index -= 1
            pending.insert(index, event)
        else:
            pending.append(event)
        self._event.set()

    def poke(self) -> None:
        """Wake the stream without asking for a log read (a heartbeat or a revocation is due)."""
        self._event.set()

    def take_pending(self, cursor: int) -> list[EventView]:
        """Pending events continuing ``cursor`` exactly. A gap (an event handed over
        late by a concurrent transaction, an overflow) is given ``GAP_GRACE`` seconds to
        fill before ``wait`` asks for a log read."""
        if not self._pending:
            self._gap = False
            return []
        while self.pending and self.pending[0].sequence <= cursor:
            self.pending.popleft()
        out: list[EventView] = []
        while self.pending and self.pending[0].sequence == cursor + 1:
            event = self.pending.popleft()
            out.append(event)
            cursor = event.sequence
        self._gap = bool(self.pending)
        return out

    async def wait(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` s (None: until woken); True if woken.

        Raises:
            RelayError: SHUTTING_DOWN.
        """
        if self._broker.closing:
            raise RelayError(Reason.SHUTTING_DOWN, "relay shutting down; reconnect")
        gap = self._gap
        if gap:
            timeout = GAP_GRACE if timeout is None else min(timeout, GAP_GRACE)
        try:
            if timeout is None:
                await self._event.wait()
            else:
                await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            if gap and self._gap:  # the missing event did not come: read the log
                self._gap = False
                self.needs_read = True
                return True
            self._idle_waits += 1
            if self._idle_waits % 6 == 0:  # an occasional re-read is the safety net
                self.needs_read = True
            return False
        finally:
            self._event.clear()
        if self._broker.closing:
            raise RelayError(Reason.SHUTTING_DOWN, "relay shutting down; reconnect")
        return True

    def close(self) -> None:
        """Stop receiving wake-ups."""
        self._broker._remove(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Broker(Protocol):
    """Fan-out of notifications to subscriptions, local or across relays."""

    closing: bool

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def subscribe(self, scope: str) -> Subscription: ...

    async def notify_in_transaction(self, session: AsyncSession | AsyncConnection, note: Notification) -> None: ...

    async def notify_many_in_transaction(self, session: AsyncSession, notes: Sequence[Notification]) -> None: ...

    def dispatch(
        self,
        note: Notification,
        *,
        shop_view: JobView | None = None,
        job_view: JobView | None = None,
        event_time: float = 0.0,
    ) -> None: ...

    def expect_echo(self, job_id: str, job_sequence: int) -> None: ...

    def listening(self, note: Notification) -> bool: ...


class BaseBroker:
    """Local subscription registry shared by both brokers."""

    def __init__(self) -> None:
        self.closing = False
        self._subs: dict[str, set[Subscription]] = {}

    async def start(self) -> None:
        """Start background work (nothing for the in-process broker)."""

    async def close(self) -> None:
        """Wake every subscription so streams end with UNAVAILABLE."""
        self.closing = True
        self.wake_all()

    def subscribe(self, scope: str) -> Subscription:
        """A new subscription for ``scope`` (see ``shop_scope``/``job_scope``)."""
        sub = Subscription(self, scope)
        self._subs.setdefault(scope, set()).add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.scope)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.scope]

    def expect_echo(self, job_id: str, job_sequence: int) -> None:
        """A local statement is about to notify this event (skip its echo)."""

    async def notify_in_transaction(self, session: AsyncSession | AsyncConnection, note: Notification) -> None:
        """Queue a cross-relay notification inside the writing transaction."""

    async def notify_many_in_transaction(self, session: AsyncSession, notes: Sequence[Notification]) -> None:
        """Queue several cross-relay notifications inside the writing transaction."""

    def dispatch(
        self,
        note: Notification,
        *,
        shop_view: JobView | None = None,
        job_view: JobView | None = None,
        event_time: float = 0.0,
    ) -> None:
        """Wake local subscriptions of the note's shop and job (after commit), handing
        them the event when the views are given."""
        # One EventView per scope, shared by its subscribers (and so is the message
        # the servicer builds from it: see EventView.encoded). An event the shop does
        # not see (no shop sequence: creation, an upload's end) wakes no shop stream.
        subs = self._subs.get(shop_scope(note.shop_id), ()) if note.shop_sequence is not None else ()
        if subs and shop_view is not None:
            shared = EventView(note.shop_sequence, shop_view, event_time)  # type: ignore[arg-type]
            for sub in subs:
                sub.offer(shared)
        else:
            for sub in subs:
                sub.wake()
        subs = self._subs.get(job_scope(note.job_id), ())
        if subs and job_view is not None:
            shared = EventView(note.job_sequence, job_view, event_time)
            for sub in subs:
                sub.offer(shared)
        else:
            for sub in subs:
                sub.wake()

    def listening(self, note: Notification) -> bool:
        """True if a local stream would take ``note``'s event (else its views need not be built)."""
        return (note.shop_sequence is not None and shop_scope(note.shop_id) in self._subs) or (
            job_scope(note.job_id) in self._subs
        )

    def wake_all(self) -> None:
        """Wake every subscription (re-sync after a lost LISTEN, or shutdown)."""
        for subs in self._subs.values():
            for sub in subs:
                sub.wake()


class InProcessBroker(BaseBroker):
    """Fan-out inside one process (the embedded SQLite default)."""


class PostgresBroker(BaseBroker):
    """Fan-out across relays through PostgreSQL LISTEN/NOTIFY."""

    def __init__(self, conninfo: str, *, reconnect_delay: float = 0.5) -> None:
        super().__init__()
        self._conninfo = conninfo
        self._reconnect_delay = reconnect_delay
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        # Our own notifications come back through LISTEN; their events were already
        # handed to local streams, so those echoes are skipped (bounded memory).
        self._own: collections.OrderedDict[tuple[str, int], None] = collections.OrderedDict()

    async def start(self) -> None:
        """Start listening; returns once LISTEN is active (or after 5 s)."""
        self._task = asyncio.create_task(self._run(), name="pg-listen")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), 5)

    async def close(self) -> None:
        """Stop listening and end every stream."""
        await super().close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def notify_in_transaction(self, session: AsyncSession | AsyncConnection, note: Notification) -> None:
        """``pg_notify`` in the writing transaction: delivered to every relay on commit."""
        payload = json.dumps(dataclasses.asdict(note), separators=(",", ":"))
        params = {"channel": CHANNEL, "payload": payload}
        self.expect_echo(note.job_id, note.job_sequence)
        if isinstance(session, AsyncConnection):
            await session.execute(_NOTIFY, params)
        else:
            await session.exec(_NOTIFY, params=params)  # type: ignore[call-overload]

    async def notify_many_in_transaction(self, session: AsyncSession, notes: Sequence[Notification]) -> None:
        """``notify_in_transaction`` for many events in one statement."""
        payloads = [json.dumps(dataclasses.asdict(note), separators=(",", ":")) for note in notes]
        for note in notes:
            self.expect_echo(note.job_id, note.job_sequence)
        await session.exec(  # type: ignore[call-overload]
            _NOTIFY_MANY, params={"channel": CHANNEL, "payloads": payloads}
        )

    async def _run(self) -> None:
        import psycopg

        first = True
        while not self.closing:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    if not first:
                        log.warning("LISTEN connection restored; re-syncing subscribers from the event log")
                    # Anything notified while we were not listening is in the log.
                    self.wake_all()
                    first = False
                    async for notify in conn.notifies():
                        self._on_payload(notify.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect on any connection failure
                self._listening.clear()
                log.warning("LISTEN connection lost (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(self._reconnect_delay)

    def dispatch(
        self,
        note: Notification,
        *,
        shop_view: JobView | None = None,
        job_view: JobView | None = None,
        event_time: float = 0.0,
    ) -> None:
        """As ``BaseBroker.dispatch`` (the echo of a local event is skipped: see
        ``notify_in_transaction``)."""
        super().dispatch(note, shop_view=shop_view, job_view=job_view, event_time=event_time)

    def expect_echo(self, job_id: str, job_sequence: int) -> None:
        """Remember a local event before its commit: its echo may come back through
        LISTEN before the writer hands it to the local streams (an event whose
        transaction failed just ages out)."""
        self._own[(job_id, job_sequence)] = None
        while len(self._own) > 10_000:
            self._own.popitem(last=False)

    def _on_payload(self, payload: str) -> None:
        try:
            note = Notification(**json.loads(payload))
        except (ValueError, TypeError):
            log.warning("ignoring malformed notification")
            return
        if self._own.pop((note.job_id, note.job_sequence), False) is None:
            return  # our own event, already delivered locally
        super().dispatch(note)


def make_broker(database_url: str, is_postgres: bool) -> BaseBroker:
    """The broker for this database: LISTEN/NOTIFY on PostgreSQL, in-process on SQLite."""
    if not is_postgres:
        return InProcessBroker()
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(drivername="postgresql")
    return PostgresBroker(url.render_as_string(hide_password=False))


async def record_event(
    session: AsyncSession, broker: Broker, *, job: Job, shop_visible: bool, now: float
) -> Notification:
    """Append the job's current state to the event log (in the caller's transaction).

    Bumps the job's sequence, and the shop's when ``shop_visible``; sends the
    cross-relay notification inside the transaction. Call ``broker.dispatch``
    with the result after commit.
    """
    job.last_sequence += 1
    shop_seq = await crud.next_shop_sequence(session, shop_id=job.shop_id) if shop_visible else None
    session.add(job)
    session.add(_event_row(job, shop_seq, now))
    note = Notification(job.shop_id, job.id, shop_seq, job.last_sequence)
    await broker.notify_in_transaction(session, note)
    return note


def _event_row(job: Job, shop_seq: int | None, now: float) -> JobEvent:
    """The event row of ``job``'s current state (its ``last_sequence`` already bumped)."""
    return JobEvent(
        shop_id=job.shop_id,
        job_id=job.id,
        shop_sequence=shop_seq,
        job_sequence=job.last_sequence,
        state=job.state,
        reason=job.reason,
        created_at=now,
        kiosk_statement=job.kiosk_statement,
    )


async def record_events(
    session: AsyncSession, broker: Broker, *, jobs: Sequence[tuple[Job, bool]], now: float
) -> list[Notification]:
    """``record_event`` for many jobs at once (expiry, revocation): one sequence UPDATE
    per shop (shops in id order), the event rows flushed together, one NOTIFY statement.
    ``jobs``: (job with its new state already set, shop visible)."""
    counts = collections.Counter(job.shop_id for job, visible in jobs if visible)
    next_seq: dict[str, int] = {}
    for shop_id in sorted(counts):
        last = await crud.next_shop_sequence(session, shop_id=shop_id, count=counts[shop_id])
        next_seq[shop_id] = last - counts[shop_id] + 1
    notes: list[Notification] = []
    for job, visible in jobs:
        job.last_sequence += 1
        shop_seq: int | None = None
        if visible:
            shop_seq = next_seq[job.shop_id]
            next_seq[job.shop_id] += 1
        session.add(job)
        session.add(_event_row(job, shop_seq, now))
        notes.append(Notification(job.shop_id, job.id, shop_seq, job.last_sequence))
    if notes:
        await broker.notify_many_in_transaction(session, notes)
    return notes


async def append_event(
    conn: AsyncConnection,
    broker: Broker,
    *,
    shop_id: str,
    job_id: str,
    job_sequence: int,
    state: str,
    reason: str,
    shop_visible: bool,
    now: float,
) -> Notification:
    """``record_event`` for the Core hot paths: the caller has already set the job's
    state and ``last_sequence = job_sequence`` in this transaction. Bumps the shop's
    sequence when ``shop_visible``, appends the row, notifies other relays."""
    shop_seq = await crud.bump_shop_sequence(conn, shop_id=shop_id) if shop_visible else None
    await crud.insert_event(
        conn,
        values={
            "shop_id": shop_id,
            "job_id": job_id,
            "shop_sequence": shop_seq,
            "job_sequence": job_sequence,
            "state": state,
            "reason": reason,
            "created_at": now,
        },
    )
    note = Notification(shop_id, job_id, shop_seq, job_sequence)
    await broker.notify_in_transaction(conn, note)
    return note
