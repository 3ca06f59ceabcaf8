"""Caps on live status streams: per job and per client address, in this process.

Served as ASGI (:mod:`web_bridge.live_status`) a stream holds no thread, but still a
socket, memory and a relay watch, for up to SSE_MAX_SECONDS; under a threaded WSGI
server it holds a thread. One client must not hold an unbounded number of them.
Past a cap the page gets 429 and polls ``GET /api/jobs/<id>`` instead.
"""

from __future__ import annotations

import ipaddress
import threading
from collections import Counter
from collections.abc import Callable

from flask import Flask, current_app

EXTENSION_KEY = "cloudtab_stream_slots"


class StreamSlots:
    """Counts open streams per job and per client; thread-safe."""

    def __init__(self, per_job: int, per_client: int) -> None:
        self.per_job = per_job
        self.per_client = per_client
        self._lock = threading.Lock()
        self._jobs: Counter[str] = Counter()
        self._clients: Counter[str] = Counter()

    def acquire(self, job_id: str, client: str) -> Callable[[], None] | None:
        """A release function for a new stream, or None when a cap is reached.

        ``client`` is the client's address (an IPv6 one counts by its /64)."""
        client = client_key(client)
        with self._lock:
            if self._jobs[job_id] >= self.per_job or self._clients[client] >= self.per_client:
                return None
            self._jobs[job_id] += 1
            self._clients[client] += 1
        released = threading.Event()

        def release() -> None:
            if released.is_set():
                return
            released.set()
            with self._lock:
                for counter, key in ((self._jobs, job_id), (self._clients, client)):
                    counter[key] -= 1
                    if counter[key] <= 0:
                        del counter[key]

        return release

    @property
    def open(self) -> int:
        with self._lock:
            return sum(self._jobs.values())


def client_key(address: str) -> str:
    """What the per-client cap counts: the address, or its /64 for IPv6 (one customer's
    network hands out a whole /64)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def slots() -> StreamSlots:
    """The current app's stream slots."""
    value: StreamSlots = current_app.extensions[EXTENSION_KEY]
    return value


def init_app(app: Flask) -> None:
    """Create the app's slots from SSE_MAX_PER_JOB and SSE_MAX_PER_CLIENT."""
    app.extensions[EXTENSION_KEY] = StreamSlots(
        int(app.config["SSE_MAX_PER_JOB"]), int(app.config["SSE_MAX_PER_CLIENT"])
    )
