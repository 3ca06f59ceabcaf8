"""The full job life cycle through real gRPC calls, on both backends."""

from __future__ import annotations

import hashlib
import os
import threading

import grpc

from tests.relay.helpers import JS, create_job, enroll, get_shop


def test_full_life_cycle(backend_relay) -> None:  # type: ignore[no-untyped-def]
    relay = backend_relay
    slug, code = relay.add_shop("Copy Corner")
    with relay.channel() as channel:
        kiosk = enroll(channel, slug, code)
        shop = get_shop(channel, slug)
        assert shop.public_key == kiosk.public_key
        assert shop.key_fingerprint == hashlib.sha256(kiosk.public_key).digest()
        assert len(shop.key_fingerprint_display) == 19 and shop.key_fingerprint_display.count("-") == 3
        assert shop.limits.max_files_per_job == 20
        assert list(shop.accepted_media_types) == ["application/pdf", "image/jpeg", "image/png"]
        assert shop.min_kiosk_version == "0.1.0"

        events: list = []
        got_queued = threading.Event()
        stream = kiosk.subscribe(timeout=60)

        def consume() -> None:
            try:
                for item in stream:
                    if item.WhichOneof("item") == "event":
                        events.append(item.event)
                        if item.event.job.state == JS.JOB_STATE_QUEUED:
                            got_queued.set()
            except grpc.RpcError:
                pass

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()

        files = [os.urandom(1_000_003), os.urandom(17)]
        job = create_job(channel, kiosk, [len(f) for f in files])
        assert job.job.state == JS.JOB_STATE_UPLOADING
        assert len(job.job.job_code) == 6
        assert job.job.sealed_manifest == b""
        reply = job.upload(0, files[0])
        assert reply.committed_offset == len(files[0]) and reply.complete
        assert job.upload(1, files[1]).complete
        manifest = os.urandom(300)
        queued = job.submit(manifest)
        assert queued.state == JS.JOB_STATE_QUEUED and queued.sealed_manifest == b""

        assert got_queued.wait(5), "the kiosk stream did not see the job"
        event = events[-1]
        assert event.job.job_id == job.job_id and event.job.sealed_manifest == manifest
        assert event.sequence >= 1

        shop_view = kiosk.get_job(job.job_id)
        assert shop_view.sealed_manifest == manifest
        assert [f.size for f in shop_view.files] == [len(f) for f in files]
        assert kiosk.download(job.job_id, 0) == files[0]
        assert kiosk.download(job.job_id, 0, offset=999_999) == files[0][999_999:]
        assert kiosk.download(job.job_id, 1) == files[1]

        assert kiosk.update(job.job_id, JS.JOB_STATE_RECEIVED).state == JS.JOB_STATE_RECEIVED
        assert job.get().state == JS.JOB_STATE_RECEIVED
        assert kiosk.update(job.job_id, JS.JOB_STATE_PRINTING).state == JS.JOB_STATE_PRINTING
        done = kiosk.complete(job.job_id)
        assert done.state == JS.JOB_STATE_COMPLETED and done.sealed_manifest == b""
        assert job.get().state == JS.JOB_STATE_COMPLETED
        assert kiosk.get_job(job.job_id).sealed_manifest == b""

        watched = [w.event.job.state for w in job.watch() if w.WhichOneof("item") == "event"]
        assert watched == [JS.JOB_STATE_COMPLETED]
        all_states = [w.event.job.state for w in job.watch(after=0 + 1) if w.WhichOneof("item") == "event"]
        assert all_states == [JS.JOB_STATE_QUEUED, JS.JOB_STATE_RECEIVED, JS.JOB_STATE_PRINTING, JS.JOB_STATE_COMPLETED]
        stream.cancel()
        consumer.join(5)
        states = [e.job.state for e in events if e.job.job_id == job.job_id]
        assert states[0] == JS.JOB_STATE_QUEUED and states[-1] == JS.JOB_STATE_COMPLETED
        seqs = [e.sequence for e in events]
        assert seqs == sorted(set(seqs))


def test_reject_and_cancel(relay) -> None:  # type: ignore[no-untyped-def]
    slug, code = relay.add_shop("Shop")
    with relay.channel() as channel:
        kiosk = enroll(channel, slug, code)
        job = create_job(channel, kiosk, [10])
        job.upload(0, b"0123456789")
        job.submit(b"m")
        rejected = kiosk.reject(job.job_id, "printer")
        assert rejected.state == JS.JOB_STATE_REJECTED
        seen = job.get()
        assert seen.state == JS.JOB_STATE_REJECTED and seen.reason == "printer"

        other = create_job(channel, kiosk, [4])
        other.upload(0, b"abcd")
        assert other.cancel().state == JS.JOB_STATE_CANCELLED
        assert other.offset(0).committed_offset == 0
        assert not any((relay.data_dir / "blobs").rglob(f"*{other.job_id}*"))
