"""kill -9 of a relay mid-transfer (docs/security.md F1).

Two relay processes share one PostgreSQL database and one GCS emulator bucket.
Relay A is killed with SIGKILL in the middle of an upload, of a download and of
a subscription; the client resumes on relay B, and the bytes are intact and no
event is lost or repeated.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from cloudtab.v1 import customer_jobs_pb2 as cj
from cloudtab.v1 import shop_jobs_pb2 as sj

from cloudtab_rpc.status import error_info
from tests.fixtures.faults import Customer, Kiosk, PlainFile, bearer

SIZE = 6 * 1024 * 1024


@pytest.fixture
def pair(relay_procs: Any, make_pg_database: Any, gcs_emulator: Any) -> dict[str, Any]:
    bucket = f"kill-{secrets.token_hex(6)}"
    gcs_emulator.create_bucket(bucket)
    url = make_pg_database()
    a = relay_procs(name="relay-a", database_url=url, gcs_bucket=bucket)
    b = relay_procs(name="relay-b", database_url=url, gcs_bucket=bucket)
    slug, code = a.add_shop("Kill Shop")
    kiosk = Kiosk.enroll(b.channel(), code, slug)
    return {"a": a, "b": b, "slug": slug, "kiosk": kiosk}


def _doc() -> PlainFile:
    return PlainFile("big.pdf", "application/pdf", os.urandom(SIZE))


def test_kill_during_upload_resumes_on_other_relay(pair: dict[str, Any]) -> None:
    a, b, kiosk = pair["a"], pair["b"], pair["kiosk"]
    customer_a = Customer(a.channel())
    job = customer_a.create(pair["slug"], [_doc()], public_key=kiosk.public_key)
    data = job.ciphertexts[0]
    piece = 256 * 1024

    def messages() -> Iterator[cj.UploadFileRequest]:
        yield cj.UploadFileRequest(header=cj.UploadFileHeader(job_id=job.job_id, file_index=0, offset=0))
        for n, pos in enumerate(range(0, len(data), piece)):
            if n == 10:
                a.kill()  # mid-stream, ~2.5 MB in
            yield cj.UploadFileRequest(data=data[pos : pos + piece])

    with pytest.raises(grpc.RpcError) as failed:
        customer_a.jobs.UploadFile(messages(), metadata=bearer(job.token), timeout=30)
    # The connection died (a transport status, no relay ErrorInfo), not a relay refusal.
    assert failed.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.INTERNAL), (
        failed.value.code()
    )
    assert error_info(failed.value).reason is None, error_info(failed.value)
    customer_b = Customer(b.channel())
    committed = customer_b.offset(job, 0)
    assert 0 <= committed <= 10 * piece
    assert customer_b.upload(job, 0).complete
    customer_b.submit(job)
    _, files = kiosk.open(job.job_id)
    assert files == [job.files[0].data]


def test_kill_during_download_resumes_on_other_relay(pair: dict[str, Any]) -> None:
    a, b, kiosk = pair["a"], pair["b"], pair["kiosk"]
    job = Customer(b.channel()).send(pair["slug"], [_doc()], public_key=kiosk.public_key)
    on_a = kiosk.on(a.channel())
    buffer = bytearray()
    stream = on_a.stub.DownloadFile(
        sj.DownloadFileRequest(job_id=job.job_id, file_index=0, offset=0), metadata=bearer(kiosk.token), timeout=30
    )
    with pytest.raises(grpc.RpcError) as failed:
        for message in stream:
            assert message.offset == len(buffer)
            buffer += message.data
            if len(buffer) >= 2 * 1024 * 1024 and a.process and a.process.poll() is None:
                a.kill()
    assert failed.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.INTERNAL)
    assert error_info(failed.value).reason is None, error_info(failed.value)
    assert 0 < len(buffer) < len(job.ciphertexts[0])
    rest = kiosk.download(job.job_id, 0, offset=len(buffer))
    assert bytes(buffer) + rest == job.ciphertexts[0]


def test_kill_during_subscription_resumes_on_other_relay(pair: dict[str, Any]) -> None:
    a, b, kiosk = pair["a"], pair["b"], pair["kiosk"]
    customer_b = Customer(b.channel())
    small = PlainFile("s.pdf", "application/pdf", b"%PDF-1.4 small")
    on_a = kiosk.on(a.channel())
    first = customer_b.send(pair["slug"], [small], public_key=kiosk.public_key)
    stream = on_a.subscribe(0, timeout=60)
    seen: list[tuple[int, str, int]] = []
    for message in stream:
        if message.WhichOneof("item") == "event":
            event = message.event
            seen.append((event.sequence, event.job.job_id, event.job.state))
            break
    # A job submitted on B reaches the stream on A (cross-relay fan-out).
    second = customer_b.send(pair["slug"], [small], public_key=kiosk.public_key)
    for message in stream:
        if message.WhichOneof("item") == "event":
            event = message.event
            seen.append((event.sequence, event.job.job_id, event.job.state))
            break
    a.kill()
    with pytest.raises(grpc.RpcError):
        for _ in stream:
            pass
    # While the kiosk is away: two more jobs and a state change.
    third = customer_b.send(pair["slug"], [small], public_key=kiosk.public_key)
    kiosk.update(first.job_id, 3)  # RECEIVED
    fourth = customer_b.send(pair["slug"], [small], public_key=kiosk.public_key)
    resumed = kiosk.events(seen[-1][0], 3, timeout=15)
    seen += [(e.sequence, e.job.job_id, e.job.state) for e in resumed]
    sequences = [s for s, _, _ in seen]
    assert sequences == sorted(set(sequences)), f"lost order or duplicates: {sequences}"
    assert [(j, st) for _, j, st in seen] == [
        (first.job_id, 2),
        (second.job_id, 2),
        (third.job_id, 2),
        (first.job_id, 3),
        (fourth.job_id, 2),
    ]
