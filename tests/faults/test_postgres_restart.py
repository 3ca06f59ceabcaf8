"""PostgreSQL restarted under subscribed kiosks (docs/security.md F2).

A throwaway cluster (never the shared server) is stopped and started again
while two relays serve and a kiosk is subscribed on each. Calls during the gap
fail with UNAVAILABLE; afterwards every job submitted before, during (retried)
and after the restart reaches both kiosks once, in sequence order.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import grpc
import pytest

from tests.fixtures.faults import Customer, Kiosk, PlainFile

SMALL = PlainFile("s.pdf", "application/pdf", b"%PDF-1.4 pg restart")


class Collector:
    """Subscribes in a thread and reconnects after a broken stream with its last sequence."""

    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.events: list[tuple[int, str, int]] = []
        self.breaks = 0
        self._stop = threading.Event()
        self._call: Any = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            after = self.events[-1][0] if self.events else 0
            try:
                self._call = self.kiosk.subscribe(after, timeout=120)
                for message in self._call:
                    if message.WhichOneof("item") == "event":
                        e = message.event
                        self.events.append((e.sequence, e.job.job_id, e.job.state))
            except grpc.RpcError:
                if self._stop.is_set():
                    return
                self.breaks += 1
                self._stop.wait(0.5)

    def queued(self) -> list[str]:
        return [job for _, job, state in self.events if state == 2]

    def stop(self) -> None:
        self._stop.set()
        if self._call is not None:
            self._call.cancel()
        self._thread.join(5)


def _retry(fn: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return fn()
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_subscription_survives_postgres_restart(pg_cluster: Any, relay_procs: Any) -> None:
    url = pg_cluster.create_database("restart")
    a = relay_procs(name="pg-a", database_url=url)
    b = relay_procs(name="pg-b", database_url=url, data_dir=a.data_dir)
    slug, code = a.add_shop("Restart Shop")
    kiosk = Kiosk.enroll(a.channel(), code, slug)
    on_a, on_b = Collector(kiosk), Collector(kiosk.on(b.channel()))
    customer = Customer(a.channel())
    try:
        before = [customer.send(slug, [SMALL], public_key=kiosk.public_key).job_id for _ in range(2)]
        time.sleep(0.5)
        pg_cluster.stop()
        try:
            with pytest.raises(grpc.RpcError) as during:
                customer.create(slug, [SMALL], public_key=kiosk.public_key)
            assert during.value.code() == grpc.StatusCode.UNAVAILABLE, during.value.details()
            time.sleep(2)
        finally:
            pg_cluster.start()
        after = [_retry(lambda: customer.send(slug, [SMALL], public_key=kiosk.public_key), 30).job_id for _ in range(3)]
        expected = before + after
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (on_a.queued() != expected or on_b.queued() != expected):
            time.sleep(0.2)
        for collector in (on_a, on_b):
            assert collector.queued() == expected, (collector.queued(), expected, collector.breaks)
            sequences = [s for s, _, _ in collector.events]
            assert sequences == sorted(set(sequences)), f"duplicates or disorder: {sequences}"
    finally:
        on_a.stop()
        on_b.stop()
