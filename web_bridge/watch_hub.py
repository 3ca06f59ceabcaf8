"""One relay WatchJob per job, shared by every live status stream of that job (asyncio).

A :class:`Feed` holds one watch of the relay for a (job, token) pair and hands each
item to the queues of the streams that joined it; the last stream to leave closes it
after ``linger`` seconds (a page reconnecting after its time limit finds it still open).
Keying on the token's digest too means a wrong token never reads a feed opened with
the right one: it gets a feed of its own, which the relay refuses.

Pure asyncio: the watch itself is an injected ``opener`` (the gRPC one is in
:mod:`web_bridge.live_status`), so this module knows neither gRPC nor HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FeedEvent:
    """A state change, already encoded once for every stream: ``text`` is the SSE message."""

    sequence: int
    terminal: bool
    text: bytes


class Heartbeat:
    """The relay's keep-alive: streams pass it on as an SSE comment."""


@dataclass(frozen=True)
class FeedEnd:
    """The feed ended: after a terminal state (``error`` None) or with an error."""

    error: Exception | None = None


HEARTBEAT = Heartbeat()
FeedItem = FeedEvent | Heartbeat | FeedEnd
# (job_id, token) -> the relay's items for that job, from its current state on.
Opener = Callable[[str, str], AsyncIterator[FeedEvent | Heartbeat]]


class Feed:
    """One shared watch of a job; streams :meth:`join` it and read their queue."""

    def __init__(self, hub: WatchHub, key: tuple[str, str], job_id: str, token: str) -> None:
        self._hub = hub
        self._key = key
        self.latest: FeedEvent | None = None
        self.end: FeedEnd | None = None
        self.ready = asyncio.Event()  # set at the first event or at the end
        self._queues: set[asyncio.Queue[FeedItem]] = set()
        self._linger: asyncio.TimerHandle | None = None
        self._task = asyncio.get_running_loop().create_task(self._run(job_id, token))

    @property
    def watchers(self) -> int:
        """Streams reading this feed now."""
        return len(self._queues)

    async def _run(self, job_id: str, token: str) -> None:
        end = FeedEnd()
        try:
            async for item in self._hub.opener(job_id, token):
                if isinstance(item, FeedEvent):
                    self.latest = item
                    self.ready.set()
                self._publish(item)
                if isinstance(item, FeedEvent) and item.terminal:
                    break
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 (any failure ends the feed; the streams word it)
            end = FeedEnd(exc)
        finally:
            self.end = end
            self.ready.set()
            self._publish(end)
            self._hub.forget(self._key, self)

    def _publish(self, item: FeedItem) -> None:
        for queue in self._queues:
            queue.put_nowait(item)

    def join(self) -> asyncio.Queue[FeedItem]:
        """A new stream's queue (items from now on; :attr:`latest` is the state so far)."""
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        queue: asyncio.Queue[FeedItem] = asyncio.Queue()
        self._queues.add(queue)
        return queue

    def leave(self, queue: asyncio.Queue[FeedItem]) -> None:
        """A stream is gone; the feed closes ``linger`` seconds after the last one."""
        self._queues.discard(queue)
        if not self._queues and self.end is None and self._linger is None:
            self._linger = asyncio.get_running_loop().call_later(self._hub.linger, self.close)

    def close(self) -> None:
        """Stop watching the relay (idempotent)."""
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if self._queues:
            return
        self._task.cancel()
        self._hub.forget(self._key, self)

    async def wait_closed(self) -> None:
        """Wait for the watch task to finish (after :meth:`close` or the feed's end)."""
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class WatchHub:
    """The feeds of one event loop, by job and token digest."""

    def __init__(self, opener: Opener, *, linger: float = 5.0) -> None:
        self.opener = opener
        self.linger = linger
        self._feeds: dict[tuple[str, str], Feed] = {}

    @staticmethod
    def _key(job_id: str, token: str) -> tuple[str, str]:
        return job_id, hashlib.sha256(token.encode()).hexdigest()

    def feed(self, job_id: str, token: str) -> Feed:
        """The open feed of this job and token, or a new one."""
        key = self._key(job_id, token)
        feed = self._feeds.get(key)
        if feed is None or feed.end is not None:
            feed = Feed(self, key, job_id, token)
            self._feeds[key] = feed
        return feed

    def forget(self, key: tuple[str, str], feed: Feed) -> None:
        """Drop ``feed`` from the hub (it ended or closed)."""
        if self._feeds.get(key) is feed:
            del self._feeds[key]

    @property
    def open_feeds(self) -> int:
        """Relay watches open now."""
        return len(self._feeds)

    async def aclose(self) -> None:
        """Close every feed (at shutdown)."""
        feeds = list(self._feeds.values())
        for feed in feeds:
            feed._queues.clear()
            feed.close()
        for feed in feeds:
            await feed.wait_closed()
