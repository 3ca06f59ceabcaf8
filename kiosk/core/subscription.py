"""The SubscribeJobs loop on its own thread: reconnects with backoff, resumes by sequence.

It reports three things through callbacks (called on its thread): each
:class:`JobEvent`, the connection state, and the highest sequence handled (to
persist). On UNAVAILABLE and other transient errors it waits with exponential
backoff and full jitter, then resubscribes after the last sequence it handled,
so nothing is missed or seen twice. A stream that stays silent longer than
``idle_timeout`` (no heartbeat) is treated as dead and restarted.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
from cloudtab.v1 import common_pb2

from kiosk.core.errors import NotAuthorized, RelayError, UpdateNeeded
from kiosk.core.relay import RelayClient, map_error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionState:
    """Whether the kiosk is connected to its relay, for the status bar."""

    online: bool = False
    status: str = "offline"  # offline | connecting | online | unauthorized | update-needed | stopped
    message: str = "not connected"
    update_needed: bool = False
    since: datetime = field(default_factory=lambda: datetime.now(UTC))


class Backoff:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**n))."""

    def __init__(self, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None) -> None:
        self.base, self.cap, self.attempt = base, cap, 0
        self.rng = rng or random.Random()

    def next(self) -> float:
        ceiling = min(self.cap, self.base * (2**self.attempt))
        self.attempt = min(self.attempt + 1, 30)
        return max(0.05, self.rng.uniform(0, ceiling))

    def reset(self) -> None:
        self.attempt = 0


class Subscription:
    """Keeps one SubscribeJobs stream alive on a daemon thread."""

    def __init__(
        self,
        client_factory: Callable[[], RelayClient],
        on_event: Callable[[common_pb2.JobEvent], None],
        on_state: Callable[[ConnectionState], None],
        after_sequence: int = 0,
        on_sequence: Callable[[int], None] | None = None,
        idle_timeout: float = 45.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._client_factory = client_factory
        self._on_event = on_event
        self._on_state = on_state
        self._on_sequence = on_sequence or (lambda seq: None)
        self.sequence = after_sequence
        self.idle_timeout = idle_timeout
        self.backoff = backoff or Backoff()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._call_lock = threading.Lock()
        self._call: object | None = None
        self._last_message = time.monotonic()
        self.state = ConnectionState()

    def start(self) -> None:
        """Start the thread (non-blocking)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="kiosk-subscription", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Cancel the stream and wait for the thread."""
        self._stop.set()
        self._cancel_call()
        if self._thread is not None:
            self._thread.join(timeout)

    def reconnect(self) -> None:
        """Drop the current stream so the loop subscribes again at once."""
        self.backoff.reset()
        self._cancel_call()

    def _cancel_call(self) -> None:
        with self._call_lock:
            call = self._call
        if call is not None:
            call.cancel()  # type: ignore[attr-defined]

    def _set_state(self, **kwargs: object) -> None:
        new = ConnectionState(**kwargs)  # type: ignore[arg-type]
        if (new.status, new.message) != (self.state.status, self.state.message):
            self.state = new
            self._on_state(new)

    def _run(self) -> None:
        client: RelayClient | None = None
        watchdog = threading.Thread(target=self._watchdog, name="kiosk-subscription-watchdog", daemon=True)
        watchdog.start()
        while not self._stop.is_set():
            try:
                if client is None:
                    client = self._client_factory()
                if self.state.status != "online":
                    self._set_state(status="connecting", message="connecting to the relay")
                self._stream(client)
                error: str = "the relay closed the stream"
                failure: RelayError | None = None
                broken = False
            except grpc.RpcError as exc:
                failure = map_error(exc, "subscribing")
                error, broken = str(failure), False
            except Exception as exc:
                log.exception("subscription loop error")
                error, failure, broken = f"internal error: {type(exc).__name__}", None, True
            if self._stop.is_set():
                break
            if isinstance(failure, NotAuthorized):
                self._set_state(status="unauthorized", message="the relay rejected this kiosk's token; enroll again")
                delay = 60.0
            elif isinstance(failure, UpdateNeeded):
                self._set_state(status="update-needed", message=f"update needed: {error}", update_needed=True)
                delay = 300.0
            else:
                self._set_state(status="offline", message=f"offline ({error}); retrying")
                delay = self.backoff.next()
                if client is not None and broken:
                    client.close()
                    client = None
            log.info("subscription ended (%s); retrying in %.1f s", error, delay)
            self._stop.wait(delay)
        if client is not None:
            client.close()
        self._set_state(status="stopped", message="stopped")

    def _stream(self, client: RelayClient) -> None:
        call = client.subscribe(self.sequence)
        with self._call_lock:
            self._call = call
        if self._stop.is_set():
            call.cancel()
        self._last_message = time.monotonic()
        try:
            for response in call:
                self._last_message = time.monotonic()
                if self.state.status != "online":
                    self.backoff.reset()
                    self._set_state(online=True, status="online", message="connected")
                if response.HasField("event"):
                    event = response.event
                    if event.sequence <= self.sequence:
                        continue  # seen already (defensive: the relay promises none twice)
                    self._on_event(event)
                    self.sequence = event.sequence
                    self._on_sequence(event.sequence)
        finally:
            with self._call_lock:
                self._call = None

    def _watchdog(self) -> None:
        while not self._stop.wait(1.0):
            with self._call_lock:
                call = self._call
            if call is not None and time.monotonic() - self._last_message > self.idle_timeout:
                log.info("no heartbeat for %.0f s; restarting the stream", self.idle_timeout)
                self._last_message = time.monotonic()
                call.cancel()  # type: ignore[attr-defined]
