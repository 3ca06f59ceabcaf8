"""The relay's boundary against a raw gRPC campaign (docs/security.md T31-T37).

A real relay process (SQLite + blob folder, its own log file). Control
characters in any string field are INVALID_ARGUMENT naming the field and are
never logged raw; a message that is not protobuf costs one WARNING line; empty
upload messages do not keep a stream alive; short chunks cannot multiply part
files; uploads per address are capped; CreateJob's limit counts an IPv6 /64
as one client; SQLite overwrites deleted rows.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cloudtab.v1 import (
    customer_jobs_pb2,
    shop_jobs_pb2,
)

from relay_grpc import logsafe
from relay_grpc.boundary import peer_key
from relay_grpc.ratelimit import RateLimiter
from relay_grpc.store.db import Database
from tests.fixtures.faults import Customer, Kiosk, PlainFile, bearer
from tests.security import pdfs

RECORD = 65536 + 16
CONTROLS = ["\x00", "\n", "\r", "\x1b[31m", "\x7f", "\x85", "\u009b"]


@pytest.fixture(scope="module")
def relay(module_relay_procs: Any) -> Any:
    return module_relay_procs(
        name="boundary", env={"CLOUDTAB_RELAY_UPLOAD_IDLE_SECONDS": "2", "CLOUDTAB_RELAY_MAX_UPLOADS_PER_PEER": "3"}
    )


@pytest.fixture(scope="module")
def shop(relay: Any) -> dict[str, Any]:
    slug, code = relay.add_shop("Boundary Shop")
    channel = relay.channel()
    kiosk = Kiosk.enroll(channel, code, slug)
    return {"slug": slug, "kiosk": kiosk, "channel": channel, "customer": Customer(channel)}


def _new_job(shop: dict[str, Any], size: int = 3 * RECORD) -> Any:
    data = pdfs.simple_pdf(b"x", pad=size)
    return shop["customer"].create(
        shop["slug"], [PlainFile("a.pdf", "application/pdf", data)], public_key=shop["kiosk"].public_key
    )


@pytest.mark.parametrize("bad", CONTROLS)
def test_control_characters_in_strings_are_invalid_argument(relay: Any, shop: dict[str, Any], bad: str) -> None:
    customer, kiosk = shop["customer"], shop["kiosk"]
    job = _new_job(shop)
    forged = f"{job.job_id}{bad}2026-12-03 10:00:00,000 INFO relay_grpc forged line"
    calls = [
        (
            "job_id",
            lambda: customer.jobs.GetJob(
                customer_jobs_pb2.GetJobRequest(job_id=forged), metadata=bearer(job.token), timeout=10
            ),
        ),
        (
            "shop_slug",
            lambda: customer.jobs.CreateJob(
                customer_jobs_pb2.CreateJobRequest(shop_slug=shop["slug"] + bad, file_sizes=[10]), timeout=10
            ),
        ),
        (
            "reason",
            lambda: kiosk.stub.RejectJob(
                shop_jobs_pb2.RejectJobRequest(job_id=job.job_id, reason="no" + bad),
                metadata=bearer(kiosk.token),
                timeout=10,
            ),
        ),
        (
            "job_id",
            lambda: kiosk.stub.GetJob(
                shop_jobs_pb2.ShopJobsServiceGetJobRequest(job_id=forged), metadata=bearer(kiosk.token), timeout=10
            ),
        ),
    ]
    for field, call in calls:
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (field, caught.value)
        assert caught.value.details() == f"{field} contains a control character"
    log = relay.log_text()
    assert "forged line" not in log.replace("\\n2026", "")  # never a line of its own
    assert not any(line.startswith("2026-12-03 10:00:00,000 INFO relay_grpc forged") for line in log.splitlines())
    assert "Traceback" not in log
    assert kiosk.get_job(job.job_id).job_id == job.job_id  # the relay still serves


def test_upload_header_with_a_control_character_is_invalid_argument(shop: dict[str, Any]) -> None:
    customer = shop["customer"]
    job = _new_job(shop)
    messages = iter(
        [
            customer_jobs_pb2.UploadFileRequest(
                header=customer_jobs_pb2.UploadFileHeader(job_id=job.job_id + "\x00", file_index=0, offset=0)
            )
        ]
    )
    with pytest.raises(grpc.RpcError) as caught:
        customer.jobs.UploadFile(messages, metadata=bearer(job.token), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "header.job_id contains a control character"


def test_safe_formatter_escapes_every_logged_value() -> None:
    record = logging.LogRecord("relay_grpc", logging.INFO, __file__, 1, "rpc job=%s", ("a\nFAKE\x1b[2J\x00",), None)
    line = logsafe.SafeFormatter("%(levelname)s %(message)s").format(record)
    assert line == "INFO rpc job=a\\nFAKE\\x1b[2J\\x00"


def test_malformed_protobuf_is_one_warning_line(relay: Any) -> None:
    before = relay.log_text()
    with grpc.insecure_channel(relay.address) as channel:
        raw = channel.unary_unary(
            "/cloudtab.v1.CustomerJobsService/GetJob", request_serializer=None, response_deserializer=None
        )
        for _ in range(5):
            with pytest.raises(grpc.RpcError):
                raw(b"\xff\xff\xff\xff\x0f", timeout=10)
    time.sleep(0.5)
    added = relay.log_text()[len(before) :]
    lines = [line for line in added.splitlines() if logsafe.MALFORMED in line]
    assert len(lines) == 5 and all(" WARNING " in line for line in lines), added
    assert "Traceback" not in added and " ERROR " not in added


def _stream(queue_: queue.Queue[Any]) -> Iterator[Any]:
    while True:
        item = queue_.get()
        if item is None:
            return
        yield item


def test_empty_upload_messages_do_not_keep_a_stream_alive(shop: dict[str, Any]) -> None:
    customer = shop["customer"]
    job = _new_job(shop)

    def messages() -> Iterator[Any]:
        yield customer_jobs_pb2.UploadFileRequest(
            header=customer_jobs_pb2.UploadFileHeader(job_id=job.job_id, file_index=0, offset=0)
        )
        for _ in range(120):  # a minute of empty messages: far past the 2 s idle limit
            time.sleep(0.5)
            yield customer_jobs_pb2.UploadFileRequest(data=b"")

    with pytest.raises(grpc.RpcError) as caught:
        customer.jobs.UploadFile(messages(), metadata=bearer(job.token), timeout=90)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "idle" in caught.value.details()


def test_short_chunks_are_refused_but_a_stream_tail(relay: Any, shop: dict[str, Any]) -> None:
    customer = shop["customer"]
    job = _new_job(shop, size=2 * RECORD)
    data = job.ciphertexts[0]
    header = customer_jobs_pb2.UploadFileRequest(
        header=customer_jobs_pb2.UploadFileHeader(job_id=job.job_id, file_index=0, offset=0)
    )
    one = customer_jobs_pb2.UploadFileRequest(data=data[:1])
    two = customer_jobs_pb2.UploadFileRequest(data=data[1:2])
    with pytest.raises(grpc.RpcError) as caught:
        customer.jobs.UploadFile(iter([header, one, two]), metadata=bearer(job.token), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == f"a chunk under {RECORD} bytes must be the last of its stream"
    offset = customer.offset(job, 0)
    assert offset == 1  # the tail was kept
    for n in range(offset, 64):  # one-byte tails, one stream each, up to the bound
        reply = customer.jobs.UploadFile(
            iter(
                [
                    customer_jobs_pb2.UploadFileRequest(
                        header=customer_jobs_pb2.UploadFileHeader(job_id=job.job_id, file_index=0, offset=n)
                    ),
                    customer_jobs_pb2.UploadFileRequest(data=data[n : n + 1]),
                ]
            ),
            metadata=bearer(job.token),
            timeout=10,
        )
        assert reply.committed_offset == n + 1
    with pytest.raises(grpc.RpcError) as caught:
        customer.jobs.UploadFile(
            iter(
                [
                    customer_jobs_pb2.UploadFileRequest(
                        header=customer_jobs_pb2.UploadFileHeader(job_id=job.job_id, file_index=0, offset=64)
                    ),
                    customer_jobs_pb2.UploadFileRequest(data=data[64:65]),
                ]
            ),
            metadata=bearer(job.token),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "short chunks" in caught.value.details()
    # Whole records still go on, and the file completes.
    customer.upload(job, 0, start=64)
    assert customer.offset(job, 0) == len(data)
    parts = [p for p in relay.data_dir.rglob("*") if p.is_file() and job.job_id in str(p)]
    assert len(parts) <= 64 + len(data) // RECORD + 1


def test_uploads_per_address_are_capped(shop: dict[str, Any]) -> None:
    customer = shop["customer"]
    jobs = [_new_job(shop) for _ in range(4)]
    queues: list[queue.Queue[Any]] = []
    calls = []
    for job in jobs[:3]:
        q: queue.Queue[Any] = queue.Queue()
        q.put(
            customer_jobs_pb2.UploadFileRequest(
                header=customer_jobs_pb2.UploadFileHeader(job_id=job.job_id, file_index=0, offset=0)
            )
        )
        queues.append(q)
        calls.append(customer.jobs.UploadFile.future(_stream(q), metadata=bearer(job.token), timeout=30))
    time.sleep(1.0)  # the three streams are open at the relay
    try:
        with pytest.raises(grpc.RpcError) as caught:
            customer.jobs.UploadFile(
                iter(
                    [
                        customer_jobs_pb2.UploadFileRequest(
                            header=customer_jobs_pb2.UploadFileHeader(job_id=jobs[3].job_id, file_index=0, offset=0)
                        )
                    ]
                ),
                metadata=bearer(jobs[3].token),
                timeout=10,
            )
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert caught.value.details() == "too many concurrent uploads from one address (limit 3)"
    finally:
        for q in queues:
            q.put(None)
        for call in calls:
            assert call.result(timeout=20).committed_offset == 0
    # Once they ended, the address may upload again.
    customer.upload(jobs[3], 0)
    assert customer.offset(jobs[3], 0) == len(jobs[3].ciphertexts[0])


def test_create_job_limit_counts_an_ipv6_64_as_one_client() -> None:
    limiter = RateLimiter(3)
    addresses = [f"ipv6:[2001:db8:aa:bb:{n:x}::1]:4000" for n in range(10)]
    allowed = [limiter.allow(peer_key(peer)) for peer in addresses]
    assert allowed == [True, True, True] + [False] * 7
    assert limiter.allow(peer_key("ipv6:[2001:db8:aa:bc::1]:4000"))  # the next /64 is another client
    assert peer_key("ipv4:203.0.113.9:5000") == "203.0.113.9"
    assert peer_key("ipv6:[::ffff:203.0.113.9]:5000") == "203.0.113.9"


def test_sqlite_secure_delete_is_on(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}"

    async def pragma() -> int:
        from sqlalchemy import text

        db = Database.open(url)
        try:
            async with db.session() as session:
                return int((await session.execute(text("PRAGMA secure_delete"))).scalar_one())
        finally:
            await db.dispose()

    assert asyncio.run(pragma()) == 1
    assert sqlite3.connect(":memory:").execute("PRAGMA secure_delete").fetchone()[0] in (0, 1)


def test_relay_still_serves_after_the_campaign(shop: dict[str, Any]) -> None:
    job = shop["customer"].send(
        shop["slug"],
        [PlainFile("ok.pdf", "application/pdf", pdfs.simple_pdf(b"ok"))],
        public_key=shop["kiosk"].public_key,
    )
    assert shop["kiosk"].get_job(job.job_id).job_id == job.job_id
