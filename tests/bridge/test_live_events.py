"""Live status through the served ASGI app (tests/bridge/live.py's BridgeServer), real relay:
``HEAD /api/jobs/<id>/events`` answers like GET (status, headers) and holds nothing."""

from __future__ import annotations

import http.client
import time
from typing import Any

from kiosk.core.demo import sample_pdf
from tests.fixtures.faults import Customer, PlainFile
from web_bridge.stream_slots import EXTENSION_KEY


def _request(bridge: Any, method: str, path: str, token: str = "") -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=10)
    connection.request(method, path, headers={"Authorization": f"Bearer {token}"} if token else {})
    return connection.getresponse()


def test_head_on_events_answers_like_get_and_holds_no_stream(bridge: Any, kiosk: Any, relay: Any) -> None:
    job = Customer(relay.channel()).send(kiosk.slug, [PlainFile("a.pdf", "application/pdf", sample_pdf(1))])
    path = f"/api/jobs/{job.job_id}/events"
    started = time.monotonic()
    head = _request(bridge, "HEAD", path, job.token)
    assert (head.status, head.getheader("Content-Type")) == (200, "text/event-stream; charset=utf-8")
    assert head.getheader("Content-Security-Policy") and head.read() == b""
    slots = bridge.app.extensions[EXTENSION_KEY]
    deadline = time.monotonic() + 3
    while slots.open and time.monotonic() < deadline:
        time.sleep(0.02)
    assert slots.open == 0, "a HEAD keeps a live status stream open"
    assert time.monotonic() - started < 3
    assert _request(bridge, "HEAD", path).status == 401  # no token: as GET
    get = _request(bridge, "GET", path, job.token)
    assert get.status == 200 and get.readline() == b"retry: 2000\n"
    get.close()
