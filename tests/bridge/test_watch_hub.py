"""One relay watch per job and token, shared by every live status stream (web_bridge.watch_hub)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from web_bridge.errors import ApiError
from web_bridge.watch_hub import HEARTBEAT, FeedEnd, FeedEvent, Heartbeat, WatchHub


class Relay:
    """A scripted relay: each watch yields the job's queued items; counts the watches opened."""

    def __init__(self) -> None:
        self.opened: list[tuple[str, str]] = []
        self.items: dict[str, asyncio.Queue[FeedEvent | Heartbeat | Exception]] = {}

    async def watch(self, job_id: str, token: str) -> AsyncIterator[FeedEvent | Heartbeat]:
        self.opened.append((job_id, token))
        if token != "right":
            raise ApiError(401, "unauthorized", "not this job's token")
        queue = self.items.setdefault(job_id, asyncio.Queue())
        while True:
            item = await queue.get()
            if isinstance(item, Exception):
                raise item
            yield item


def _event(sequence: int, terminal: bool = False) -> FeedEvent:
    return FeedEvent(sequence, terminal, f"id: {sequence}\n\n".encode())


def test_watchers_of_a_job_share_one_watch_and_a_wrong_token_gets_none() -> None:
    async def scenario() -> None:
        relay = Relay()
        hub = WatchHub(relay.watch, linger=0.05)
        relay.items["j1"] = asyncio.Queue()
        relay.items["j1"].put_nowait(_event(3))
        feeds = [hub.feed("j1", "right") for _ in range(50)]
        queues = [feed.join() for feed in feeds]
        assert len({id(feed) for feed in feeds}) == 1
        await asyncio.wait_for(feeds[0].ready.wait(), 1)
        assert feeds[0].latest == _event(3) and relay.opened == [("j1", "right")]
        relay.items["j1"].put_nowait(HEARTBEAT)
        relay.items["j1"].put_nowait(_event(4, terminal=True))
        for queue in queues:  # the event that made the feed ready came before they read
            assert [await queue.get() for _ in range(4)] == [_event(3), HEARTBEAT, _event(4, True), FeedEnd()]
        assert hub.open_feeds == 0  # ended with the terminal state

        wrong = hub.feed("j2", "wrong")
        wrong.join()
        await asyncio.wait_for(wrong.ready.wait(), 1)
        assert wrong.latest is None and isinstance(wrong.end, FeedEnd)
        assert isinstance(wrong.end.error, ApiError) and wrong.end.error.status == 401

        # The last watcher leaving closes the watch after the linger; a return before it keeps it.
        feed = hub.feed("j3", "right")
        queue = feed.join()
        feed.leave(queue)
        assert hub.feed("j3", "right") is feed
        queue = feed.join()
        await asyncio.sleep(0.1)
        assert hub.open_feeds == 1
        feed.leave(queue)
        await asyncio.sleep(0.1)
        assert hub.open_feeds == 0
        await feed.wait_closed()
        assert relay.opened.count(("j3", "right")) == 1
        await hub.aclose()

    asyncio.run(scenario())
