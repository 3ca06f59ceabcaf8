"""Live job status on the event loop: ``GET /api/jobs/<id>/events`` without a thread each.

Same answer as the Flask route in :mod:`web_bridge.transfer` (``retry``, ``event: job``
messages with ``id: <sequence>``, ``: heartbeat`` comments, ``event: error``; ends
after a terminal state or SSE_MAX_SECONDS), but a stream is a coroutine reading a
shared :class:`~web_bridge.watch_hub.Feed`: thousands of watchers cost no thread and
one relay WatchJob per job. The caps per job and per client address are the app's
own :class:`~web_bridge.stream_slots.StreamSlots` (429 past them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import grpc
from cloudtab.v1 import customer_jobs_pb2, customer_jobs_pb2_grpc
from flask import Flask

from web_bridge import validate
from web_bridge.asgi_io import Receive, Scope, Send, client_address, encode_headers, header, is_secure, send_json
from web_bridge.errors import ApiError, describe_relay_error
from web_bridge.relay_client import wrap_error
from web_bridge.security import header_pairs
from web_bridge.serialize import TERMINAL_STATES, job_to_dict, sse_message
from web_bridge.stream_slots import EXTENSION_KEY as SLOTS_KEY
from web_bridge.stream_slots import StreamSlots
from web_bridge.watch_hub import HEARTBEAT, FeedEnd, FeedEvent, Heartbeat, WatchHub

logger = logging.getLogger(__name__)

EVENTS_PATH = re.compile(r"/api/jobs/([^/]+)/events")
TOO_MANY = "Too many live views of this job are open; the page checks every few seconds instead."


class LiveStatus:
    """The live status endpoint of one bridge process (its hub lives on the running loop)."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        self.max_seconds = float(config["SSE_MAX_SECONDS"])
        self.relay_timeout = float(config["RELAY_TIMEOUT"])
        self.hsts_seconds = int(config["HSTS_SECONDS"])
        self.x_for = int(config["PROXY_FIX_X_FOR"])
        self.x_proto = int(config["PROXY_FIX_X_PROTO"])
        self.slots: StreamSlots = app.extensions[SLOTS_KEY]
        self._address = str(config["RELAY_ADDRESS"])
        self._tls = bool(config["RELAY_TLS"])
        self._ca_file = config["RELAY_CA_FILE"]
        self._channel: grpc.aio.Channel | None = None
        self._hub: WatchHub | None = None

    @property
    def hub(self) -> WatchHub:
        """The fan-out of relay watches (created on first use, on the running loop)."""
        if self._hub is None:
            self._hub = WatchHub(self._watch)
        return self._hub

    def _stub(self) -> customer_jobs_pb2_grpc.CustomerJobsServiceStub:
        if self._channel is None:
            options = [("grpc.keepalive_time_ms", 30_000), ("grpc.keepalive_permit_without_calls", 0)]
            if self._tls:
                root = None
                if self._ca_file:
                    with open(self._ca_file, "rb") as handle:
                        root = handle.read()
                credentials = grpc.ssl_channel_credentials(root)
                self._channel = grpc.aio.secure_channel(self._address, credentials, options=options)
            else:
                self._channel = grpc.aio.insecure_channel(self._address, options=options)
        return customer_jobs_pb2_grpc.CustomerJobsServiceStub(self._channel)

    async def _watch(self, job_id: str, token: str) -> AsyncIterator[FeedEvent | Heartbeat]:
        """The relay's WatchJob from the job's current state on, each event encoded once.

        Raises:
            ApiError: the relay refused or failed (in the customer's words).
        """
        request = customer_jobs_pb2.WatchJobRequest(job_id=job_id, after_sequence=0)
        call = self._stub().WatchJob(request, metadata=(("authorization", f"Bearer {token}"),))
        try:
            async for message in call:
                if message.HasField("event"):
                    job = job_to_dict(message.event.job)
                    text = sse_message("job", {"job": job}, message.event.sequence).encode()
                    yield FeedEvent(message.event.sequence, job["state"] in TERMINAL_STATES, text)
                else:
                    yield HEARTBEAT
        except grpc.aio.AioRpcError as exc:
            raise describe_relay_error(wrap_error("WatchJob", exc)) from None
        finally:
            call.cancel()

    async def aclose(self) -> None:
        """Close every relay watch and the channel (at shutdown)."""
        if self._hub is not None:
            await self._hub.aclose()
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send, raw_job_id: str, head: bool = False) -> None:
        """Answer one live status request (``head``: the same status and headers, no stream)."""
        secure = is_secure(scope, self.x_proto)
        try:
            job_id = validate.job_id(raw_job_id)
            token = validate.bearer_token(header(scope, b"authorization") or "")
            query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
            after = validate.non_negative_int(query.get("after", ["0"])[-1], "after")
        except ApiError as error:
            await self._error(send, error, secure)
            return
        release = self.slots.acquire(job_id, client_address(scope, self.x_for))
        if release is None:
            await self._error(send, ApiError(429, "too_many_streams", TOO_MANY), secure, [("Retry-After", "5")])
            return
        try:
            stream = asyncio.ensure_future(self._stream(send, job_id, token, after, secure, head))
            gone = asyncio.ensure_future(_disconnected(receive))
            await asyncio.wait({stream, gone}, return_when=asyncio.FIRST_COMPLETED)
            for task in (stream, gone):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await task
        finally:
            release()

    async def _error(
        self, send: Send, error: ApiError, secure: bool, extra: list[tuple[str, str]] | None = None
    ) -> None:
        body: dict[str, Any] = {"error": error.error, "message": error.message, **error.extra}
        await send_json(send, error.status, body, secure=secure, hsts_seconds=self.hsts_seconds, extra=extra)

    async def _stream(self, send: Send, job_id: str, token: str, after: int, secure: bool, head: bool) -> None:
        feed = self.hub.feed(job_id, token)
        queue = feed.join()
        try:
            try:
                await asyncio.wait_for(feed.ready.wait(), self.relay_timeout)
            except TimeoutError:
                await self._error(send, ApiError(504, "timeout", "The print service did not answer in time."), secure)
                return
            latest = feed.latest
            if latest is None:
                error = feed.end.error if feed.end is not None else None
                if not isinstance(error, ApiError):
                    error = ApiError(502, "relay_error", "The print service had a problem. Please try again.")
                await self._error(send, error, secure)
                return
            pairs = [
                ("Content-Type", "text/event-stream; charset=utf-8"),
                ("Cache-Control", "no-store"),
                ("X-Accel-Buffering", "no"),
                *header_pairs(secure=secure, hsts_seconds=self.hsts_seconds),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": encode_headers(pairs)})
            if head:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await self._body(send, b"retry: 2000\n\n")
            await self._follow(send, feed.latest, queue, after)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            feed.leave(queue)

    async def _follow(self, send: Send, latest: FeedEvent | None, queue: asyncio.Queue[Any], after: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_seconds
        if latest is not None and latest.sequence > after:
            await self._body(send, latest.text)
            after = latest.sequence
            if latest.terminal:
                return
        while (left := deadline - loop.time()) > 0:
            try:
                item = await asyncio.wait_for(queue.get(), left)
            except TimeoutError:
                return
            if isinstance(item, FeedEvent):
                if item.sequence > after:
                    await self._body(send, item.text)
                    after = item.sequence
                    if item.terminal:
                        return
            elif isinstance(item, FeedEnd):
                if isinstance(item.error, ApiError):
                    data = {"error": item.error.error, "message": item.error.message}
                    await self._body(send, sse_message("error", data).encode())
                return
            else:
                await self._body(send, b": heartbeat\n\n")

    async def _body(self, send: Send, data: bytes) -> None:
        # A watcher that stopped reading is cut off rather than held forever.
        await asyncio.wait_for(send({"type": "http.response.body", "body": data, "more_body": True}), 30)


async def _disconnected(receive: Receive) -> None:
    """Return when the client has gone (the request body of a GET is read and dropped)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
