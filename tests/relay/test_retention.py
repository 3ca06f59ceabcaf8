"""Expiry with a short retention, and nothing left behind after completion (both backends)."""

from __future__ import annotations

import os
import time

import pytest

from tests.relay.helpers import JS, create_job, enroll
from tests.relay.scan import blob_objects, contains, db_rows, job_row

SHORT = ("--retention-seconds", "2", "--upload-retention-seconds", "2")


@pytest.fixture(params=["sqlite-local", "postgres-gcs"])
def short_relay(request, relay_factory):  # type: ignore[no-untyped-def]
    if request.param == "sqlite-local":
        return relay_factory(name="short", args=SHORT)
    url = request.getfixturevalue("make_pg_database")()
    bucket = request.getfixturevalue("gcs_bucket")
    return relay_factory(name="short-pg", database_url=url, gcs_bucket=bucket, args=SHORT)


def test_expiry_deletes_blobs_and_manifest(short_relay) -> None:  # type: ignore[no-untyped-def]
    relay = short_relay
    slug, code = relay.add_shop("Expiry Shop")
    with relay.channel() as channel:
        kiosk = enroll(channel, slug, code)
        queued = create_job(channel, kiosk, [1000])
        queued.upload(0, os.urandom(1000))
        queued.submit(os.urandom(100))
        abandoned = create_job(channel, kiosk, [5000])
        abandoned.upload(0, os.urandom(2000))
        assert blob_objects(relay), "blobs should exist before expiry"
        assert job_row(relay, queued.job_id)["sealed_manifest"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if queued.get().state == JS.JOB_STATE_EXPIRED and abandoned.get().state == JS.JOB_STATE_EXPIRED:
                break
            time.sleep(0.2)
        for job in (queued, abandoned):
            seen = job.get()
            assert seen.state == JS.JOB_STATE_EXPIRED and seen.reason
            assert job_row(relay, job.job_id)["sealed_manifest"] is None
        deadline = time.monotonic() + 5
        while blob_objects(relay) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert blob_objects(relay) == {}
        # The customer's watch ends at once with the terminal state.
        events = [w.event for w in queued.watch(timeout=5) if w.WhichOneof("item") == "event"]
        assert [e.job.state for e in events] == [JS.JOB_STATE_EXPIRED]


def test_no_trace_after_complete(backend_relay) -> None:  # type: ignore[no-untyped-def]
    relay = backend_relay
    slug, code = relay.add_shop("Trace Shop")
    marker = b"PLAINTEXT-MARKER-" + os.urandom(8).hex().encode()
    ciphertext = os.urandom(100_000) + marker + os.urandom(100_000)
    manifest = b"SEALED-MANIFEST-" + os.urandom(64)
    with relay.channel() as channel:
        kiosk = enroll(channel, slug, code)
        job = create_job(channel, kiosk, [len(ciphertext)])
        job.upload(0, ciphertext)
        job.submit(manifest)
        assert kiosk.download(job.job_id, 0) == ciphertext
        assert any(marker in data for data in blob_objects(relay).values())
        kiosk.complete(job.job_id)
    assert blob_objects(relay) == {}
    needles = [marker, manifest, ciphertext[:32], ciphertext[-32:], job.token.encode(), kiosk.token.encode()]
    rows = db_rows(relay)
    assert any(table == "jobs" for table, _ in rows)
    for table, row in rows:
        for cell in row:
            for needle in needles:
                assert not contains(cell, needle), f"{table} keeps a trace"
    log = relay.log_text().encode()
    for needle in (marker, job.token.encode(), kiosk.token.encode(), code.encode()):
        assert needle not in log
