"""Two relay processes on one PostgreSQL and one GCS bucket: events cross relays
through LISTEN/NOTIFY; an upload interrupted by kill -9 resumes on the other."""

from __future__ import annotations

import os
import queue
import threading
import time

import grpc
import pytest
from cloudtab.v1 import customer_jobs_pb2, customer_jobs_pb2_grpc

from tests.relay.helpers import JS, CustomerJob, create_job, enroll


@pytest.fixture
def two_relays(relay_factory, make_pg_database, gcs_bucket):  # type: ignore[no-untyped-def]
    url = make_pg_database()
    a = relay_factory(name="relay-a", database_url=url, gcs_bucket=gcs_bucket)
    b = relay_factory(name="relay-b", database_url=url, gcs_bucket=gcs_bucket)
    return a, b


def test_submit_on_a_reaches_kiosk_on_b(two_relays) -> None:  # type: ignore[no-untyped-def]
    a, b = two_relays
    slug, code = a.add_shop("Scale Shop")
    with a.channel() as ca, b.channel() as cb:
        kiosk_b = enroll(cb, slug, code)
        kiosk_a = type(kiosk_b)(ca, kiosk_b.shop_id, slug, kiosk_b.token, kiosk_b.public_key)
        items: queue.Queue = queue.Queue()
        stream = kiosk_b.subscribe(timeout=60)

        def pump() -> None:
            try:
                for item in stream:
                    if item.WhichOneof("item") == "event":
                        items.put((time.monotonic(), item.event))
            except grpc.RpcError:
                pass

        threading.Thread(target=pump, daemon=True).start()
        time.sleep(0.3)  # let the subscription start on relay B
        latencies = []
        for _ in range(5):
            job = create_job(ca, kiosk_a, [8])
            job.upload(0, os.urandom(8))
            sent = time.monotonic()
            job.submit(b"m")
            arrived, event = items.get(timeout=5)
            assert event.job.job_id == job.job_id and event.job.state == JS.JOB_STATE_QUEUED
            latencies.append(arrived - sent)
            # progress reported on A reaches the customer watching on B
            kiosk_a.update(job.job_id, JS.JOB_STATE_RECEIVED)
            assert items.get(timeout=5)[1].job.state == JS.JOB_STATE_RECEIVED
            customer_b = CustomerJob(cb, job.job, job.token)
            assert customer_b.get().state == JS.JOB_STATE_RECEIVED
        stream.cancel()
        assert max(latencies) < 1.0, latencies


def test_kill_9_mid_upload_resumes_on_other_relay(two_relays) -> None:  # type: ignore[no-untyped-def]
    a, b = two_relays
    slug, code = a.add_shop("Crash Shop")
    data = os.urandom(6 * 1024 * 1024 + 123)
    cut = 2 * 1024 * 1024
    with a.channel() as ca:
        kiosk = enroll(ca, slug, code)
        job = create_job(ca, kiosk, [len(data)])
        stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(ca)
        killed = threading.Event()

        def messages():  # type: ignore[no-untyped-def]
            yield customer_jobs_pb2.UploadFileRequest(
                header=customer_jobs_pb2.UploadFileHeader(job_id=job.job_id, file_index=0, offset=0)
            )
            yield customer_jobs_pb2.UploadFileRequest(data=data[:cut])
            for _ in range(250):
                if job.offset(0).committed_offset == cut:
                    break
                time.sleep(0.02)
            killed.set()
            a.kill()  # no goodbye, mid-stream
            yield customer_jobs_pb2.UploadFileRequest(data=data[cut : cut + 1024 * 1024])

        with pytest.raises(grpc.RpcError) as info:
            stub.UploadFile(messages(), metadata=job.md, timeout=30)
        assert killed.is_set() and info.value.code() == grpc.StatusCode.UNAVAILABLE, info.value
    with b.channel() as cb:
        job_b = CustomerJob(cb, job.job, job.token)
        offset = job_b.offset(0).committed_offset
        assert offset == cut
        assert job_b.upload(0, data[offset:], offset=offset).complete
        job_b.submit(b"sealed")
        kiosk_b = type(kiosk)(cb, kiosk.shop_id, slug, kiosk.token, kiosk.public_key)
        assert kiosk_b.download(job.job_id, 0) == data


def test_listen_connection_loss_loses_no_event(relay_factory, make_pg_database, gcs_bucket) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    url = make_pg_database()
    slow = {"CLOUDTAB_RELAY_HEARTBEAT_SECONDS": "60"}  # no heartbeat re-reads: only NOTIFY or re-sync
    a = relay_factory(name="relay-a", database_url=url, gcs_bucket=gcs_bucket, env=slow)
    b = relay_factory(name="relay-b", database_url=url, gcs_bucket=gcs_bucket, env=slow)
    slug, code = a.add_shop("Listen Shop")
    with a.channel() as ca, b.channel() as cb:
        kiosk_b = enroll(cb, slug, code)
        kiosk_a = type(kiosk_b)(ca, kiosk_b.shop_id, slug, kiosk_b.token, kiosk_b.public_key)
        items: queue.Queue = queue.Queue()
        stream = kiosk_b.subscribe(timeout=60)

        def pump() -> None:
            try:
                for item in stream:
                    if item.WhichOneof("item") == "event":
                        items.put(item.event)
            except grpc.RpcError:
                pass

        threading.Thread(target=pump, daemon=True).start()
        time.sleep(0.3)
        jobs = []
        for _ in range(3):
            job = create_job(ca, kiosk_a, [4])
            job.upload(0, b"abcd")
            jobs.append(job)
        with psycopg.connect(url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN cloudtab_events%' AND datname = current_database()"
            ).fetchall()
            assert len(killed) == 2  # one LISTEN connection per relay
            for job in jobs:  # submitted while relay B is reconnecting
                job.submit(b"m")
        got = [items.get(timeout=10).job.job_id for _ in jobs]
        assert got == [j.job_id for j in jobs]
        stream.cancel()
    assert "re-syncing subscribers" in b.log_text()
