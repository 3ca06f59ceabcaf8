"""Hostile uploads through a real relay (docs/security.md T9-T14): offset games,
sizes and counts past the limits, submits that lie, huge metadata, messages over
the receive limit on every RPC, and slow-loris streams."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from cloudtab.v1 import (
    customer_jobs_pb2 as cj,
)
from cloudtab.v1 import (
    customer_jobs_pb2_grpc,
    shop_directory_pb2_grpc,
    shop_jobs_pb2_grpc,
)
from cloudtab.v1 import (
    shop_directory_pb2 as sd,
)
from cloudtab.v1 import (
    shop_jobs_pb2 as sj,
)

from cloudtab_rpc.status import error_info
from tests.fixtures.faults import (
    Customer,
    Kiosk,
    PlainFile,
    SealedJob,
    bearer,
    rpc_code,
)

IDLE_SECONDS = 3  # the relay's upload idle limit in this module


@pytest.fixture(scope="module")
def world(module_relay_procs: Any) -> dict[str, Any]:
    relay = module_relay_procs(
        name="uploads",
        env={
            "CLOUDTAB_RELAY_UPLOAD_IDLE_SECONDS": str(IDLE_SECONDS),
            "CLOUDTAB_RELAY_STREAM_IDLE_SECONDS": str(IDLE_SECONDS),
        },
    )
    channel = relay.channel()
    slug, code = relay.add_shop("Upload Shop")
    kiosk = Kiosk.enroll(channel, code, slug)
    return {"relay": relay, "channel": channel, "kiosk": kiosk, "customer": Customer(channel), "slug": slug}


def _doc(size: int = 200_000) -> PlainFile:
    return PlainFile("doc.pdf", "application/pdf", os.urandom(size))


def _raw_upload(world: dict[str, Any], job: SealedJob, index: int, offset: int, chunks: list[bytes]) -> Any:
    stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(world["channel"])
    messages = [cj.UploadFileRequest(header=cj.UploadFileHeader(job_id=job.job_id, file_index=index, offset=offset))]
    messages += [cj.UploadFileRequest(data=c) for c in chunks]
    return stub.UploadFile(iter(messages), metadata=bearer(job.token), timeout=10)


def _status(fn: Any) -> tuple[grpc.StatusCode | None, str]:
    """(status code, ErrorInfo reason or "") of ``fn()``; (None, "") when it succeeds."""
    try:
        fn()
    except grpc.RpcError as exc:
        info = error_info(exc)
        return info.code, info.reason or ""
    return None, ""


def _info(fn: Any) -> tuple[str, dict[str, str]]:
    """(reason, metadata) of the relay error ``fn()`` must raise."""
    try:
        fn()
    except grpc.RpcError as exc:
        info = error_info(exc)
        return info.reason or "", dict(info.metadata)
    raise AssertionError("expected a relay error")


def test_offset_games(world: dict[str, Any]) -> None:
    customer: Customer = world["customer"]
    job = customer.create(world["slug"], public_key=world["kiosk"].public_key, files=[_doc()])
    data = job.ciphertexts[0]
    first = customer.upload(job, 0, 0, 100_000)
    assert first.committed_offset == 100_000 and not first.complete

    for offset in (-1, 100_001, len(data), len(data) + 10, 2**62, 0, 50_000, 99_999):
        code, _ = _status(lambda o=offset: _raw_upload(world, job, 0, o, [data[max(o, 0) : o + 1000] or b"x"]))
        assert code == grpc.StatusCode.FAILED_PRECONDITION, (offset, code)
        reply = _info(lambda o=offset: _raw_upload(world, job, 0, o, [data[max(o, 0) : o + 1000] or b"x"]))
        assert reply == ("OFFSET_MISMATCH", {"committed_offset": "100000"}), (offset, reply)
    assert customer.offset(job, 0) == 100_000
    # The honest resume completes the file with intact bytes.
    assert customer.upload(job, 0).complete
    customer.submit(job)
    _, files = world["kiosk"].open(job.job_id)
    assert files == [job.files[0].data]


def test_more_bytes_than_declared(world: dict[str, Any]) -> None:
    customer: Customer = world["customer"]
    job = customer.create(world["slug"], public_key=world["kiosk"].public_key, files=[_doc(10_000)])
    data = job.ciphertexts[0]
    assert _status(lambda: _raw_upload(world, job, 0, 0, [data + b"EXTRA"])) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "PAST_DECLARED_SIZE",
    )
    assert customer.offset(job, 0) == 0
    assert _status(lambda: _raw_upload(world, job, 0, 0, [data, b"E"])) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "PAST_DECLARED_SIZE",
    )
    assert customer.offset(job, 0) == len(data)
    customer.submit(job)
    assert world["kiosk"].open(job.job_id)[1] == [job.files[0].data]


def test_too_many_files(world: dict[str, Any]) -> None:
    customer: Customer = world["customer"]
    limits = customer.shop(world["slug"]).limits
    assert limits.max_files_per_job > 0
    stub = customer.jobs
    fingerprint = __import__("envelope").fingerprint(world["kiosk"].public_key)

    def create(sizes: list[int]) -> Any:
        return stub.CreateJob(
            cj.CreateJobRequest(shop_slug=world["slug"], file_sizes=sizes, key_fingerprint=fingerprint), timeout=10
        )

    assert _status(lambda: create([100] * (limits.max_files_per_job + 1)))[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _status(lambda: create([limits.max_file_bytes + 1]))[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
    over_job = limits.max_job_bytes // limits.max_file_bytes + 1
    if over_job <= limits.max_files_per_job:
        assert _status(lambda: create([limits.max_file_bytes] * over_job))[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _status(lambda: create([]))[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert _status(lambda: create([-1]))[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert (
        _status(
            lambda: stub.CreateJob(
                cj.CreateJobRequest(shop_slug=world["slug"], file_sizes=[10], key_fingerprint=b"short"), timeout=10
            )
        )[0]
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    assert (
        _status(
            lambda: stub.CreateJob(
                cj.CreateJobRequest(shop_slug=world["slug"], file_sizes=[10], key_fingerprint=b"\0" * 32), timeout=10
            )
        )[0]
        == grpc.StatusCode.FAILED_PRECONDITION
    )
    assert (
        _status(
            lambda: stub.CreateJob(
                cj.CreateJobRequest(shop_slug="no-such-shop", file_sizes=[10], key_fingerprint=fingerprint), timeout=10
            )
        )[0]
        == grpc.StatusCode.NOT_FOUND
    )


def test_file_index_beyond_declared(world: dict[str, Any]) -> None:
    customer: Customer = world["customer"]
    job = customer.create(world["slug"], public_key=world["kiosk"].public_key, files=[_doc(1000), _doc(1000)])
    for index in (2, 99, -1):
        assert _status(lambda i=index: _raw_upload(world, job, i, 0, [b"x"]))[0] == grpc.StatusCode.OUT_OF_RANGE
        assert (
            _status(
                lambda i=index: customer.jobs.GetUploadOffset(
                    cj.GetUploadOffsetRequest(job_id=job.job_id, file_index=i), metadata=bearer(job.token), timeout=5
                )
            )[0]
            == grpc.StatusCode.OUT_OF_RANGE
        )
    stub = customer.jobs
    no_header = iter([cj.UploadFileRequest(data=b"x")])
    assert (
        _status(lambda: stub.UploadFile(no_header, metadata=bearer(job.token), timeout=5))[0]
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    header = cj.UploadFileRequest(header=cj.UploadFileHeader(job_id=job.job_id, file_index=0, offset=0))
    assert (
        _status(lambda: stub.UploadFile(iter([header, header]), metadata=bearer(job.token), timeout=5))[0]
        == grpc.StatusCode.INVALID_ARGUMENT
    )


def test_submit_with_missing_files(world: dict[str, Any]) -> None:
    customer: Customer = world["customer"]
    job = customer.create(world["slug"], public_key=world["kiosk"].public_key, files=[_doc(5000), _doc(5000)])
    assert _status(lambda: customer.submit(job))[0] == grpc.StatusCode.FAILED_PRECONDITION
    customer.upload(job, 0)
    customer.upload(job, 1, 0, 100)
    assert _status(lambda: customer.submit(job))[0] == grpc.StatusCode.FAILED_PRECONDITION
    assert customer.get(job).state == 1  # still UPLOADING
    customer.upload(job, 1)
    assert customer.submit(job).state == 2  # QUEUED


def test_huge_sealed_manifest(world: dict[str, Any]) -> None:
    customer: Customer = world["customer"]
    job = customer.create(world["slug"], public_key=world["kiosk"].public_key, files=[_doc(1000)])
    customer.upload_all(job)
    for sealed in (b"", os.urandom(64 * 1024 + 1), os.urandom(1024 * 1024)):
        bad = SealedJob(job.job_id, job.job_code, job.token, job.files, job.ciphertexts, sealed, job.manifest)
        assert _info(lambda b=bad: customer.submit(b)) == ("INVALID_REQUEST", {"field": "sealed_manifest"})
    assert customer.submit(job).state == 2


def test_huge_metadata(world: dict[str, Any]) -> None:
    customer: Customer = world["customer"]
    job = customer.create(world["slug"], public_key=world["kiosk"].public_key, files=[_doc(1000)])
    stub = customer.jobs
    big = bearer(job.token) + (("x-padding", "p" * (1024 * 1024)),)
    many = bearer(job.token) + tuple((f"x-pad-{i}", "v" * 100) for i in range(2000))
    for metadata in (big, many):
        code = rpc_code(lambda md=metadata: stub.GetJob(cj.GetJobRequest(job_id=job.job_id), metadata=md, timeout=5))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED, code  # gRPC's header-size limit
    assert world["relay"].healthy()
    assert customer.get(job).job_id == job.job_id


OVER = 8 * 1024 * 1024  # past the relay's ~5 MiB receive limit


def test_message_over_max_size(world: dict[str, Any]) -> None:
    channel, job_owner = world["channel"], world["customer"]
    job = job_owner.create(world["slug"], public_key=world["kiosk"].public_key, files=[_doc(1000)])
    shop = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
    cust = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
    directory = shop_directory_pb2_grpc.ShopDirectoryServiceStub(channel)
    blob, text = b"\x04" * OVER, "x" * OVER
    shop_md, cust_md, t = bearer(world["kiosk"].token), bearer(job.token), 15
    header = cj.UploadFileRequest(header=cj.UploadFileHeader(job_id=job.job_id, file_index=0, offset=0))
    calls = {
        "GetShop": lambda: directory.GetShop(sd.GetShopRequest(slug=text), timeout=t),
        "CreateJob": lambda: cust.CreateJob(
            cj.CreateJobRequest(shop_slug=world["slug"], file_sizes=[2**40] * (OVER // 4)), timeout=t
        ),
        "UploadFile": lambda: cust.UploadFile(
            iter([header, cj.UploadFileRequest(data=blob)]), metadata=cust_md, timeout=t
        ),
        "GetUploadOffset": lambda: cust.GetUploadOffset(
            cj.GetUploadOffsetRequest(job_id=text), metadata=cust_md, timeout=t
        ),
        "SubmitJob": lambda: cust.SubmitJob(
            cj.SubmitJobRequest(job_id=job.job_id, sealed_manifest=blob), metadata=cust_md, timeout=t
        ),
        "CancelJob": lambda: cust.CancelJob(cj.CancelJobRequest(job_id=text), metadata=cust_md, timeout=t),
        "customer.GetJob": lambda: cust.GetJob(cj.GetJobRequest(job_id=text), metadata=cust_md, timeout=t),
        "WatchJob": lambda: cust.WatchJob(cj.WatchJobRequest(job_id=text), metadata=cust_md, timeout=t),
        "Enroll": lambda: shop.Enroll(sj.EnrollRequest(enrollment_code=text, public_key=blob), timeout=t),
        "RotateKey": lambda: shop.RotateKey(sj.RotateKeyRequest(public_key=blob), metadata=shop_md, timeout=t),
        "SubscribeJobs": lambda: shop.SubscribeJobs(
            sj.SubscribeJobsRequest(kiosk_version=text), metadata=shop_md, timeout=t
        ),
        "shop.GetJob": lambda: shop.GetJob(sj.ShopJobsServiceGetJobRequest(job_id=text), metadata=shop_md, timeout=t),
        "DownloadFile": lambda: shop.DownloadFile(sj.DownloadFileRequest(job_id=text), metadata=shop_md, timeout=t),
        "UpdateJob": lambda: shop.UpdateJob(sj.UpdateJobRequest(job_id=text, state=3), metadata=shop_md, timeout=t),
        "CompleteJob": lambda: shop.CompleteJob(sj.CompleteJobRequest(job_id=text), metadata=shop_md, timeout=t),
        "RejectJob": lambda: shop.RejectJob(
            sj.RejectJobRequest(job_id=job.job_id, reason=text), metadata=shop_md, timeout=t
        ),
    }
    codes = {name: rpc_code(fn) for name, fn in calls.items()}
    assert codes == {name: grpc.StatusCode.RESOURCE_EXHAUSTED for name in calls}
    assert job_owner.offset(job, 0) == 0  # nothing of the oversized chunk was kept
    assert world["relay"].healthy()


def _idle_upload(world: dict[str, Any], job: SealedJob, send_header: bool) -> tuple[str, float]:
    release = threading.Event()

    def messages() -> Iterator[cj.UploadFileRequest]:
        if send_header:
            yield cj.UploadFileRequest(header=cj.UploadFileHeader(job_id=job.job_id, file_index=0, offset=0))
        release.wait(60)  # then send nothing more: a slow-loris client

    stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(world["channel"])
    started = time.monotonic()
    try:
        stub.UploadFile(messages(), metadata=bearer(job.token), timeout=10)
        code = "OK"
    except grpc.RpcError as exc:
        info = error_info(exc)
        code = f"{info.code.name} {info.reason}"
    finally:
        release.set()
    return code, time.monotonic() - started


@pytest.mark.parametrize("send_header", [True, False], ids=["after-header", "before-header"])
def test_idle_upload_stream_is_ended(world: dict[str, Any], send_header: bool) -> None:
    job = world["customer"].create(world["slug"], public_key=world["kiosk"].public_key, files=[_doc(1000)])
    code, elapsed = _idle_upload(world, job, send_header)
    # The relay (idle limit 3 s here), not the client's 10 s deadline, ends the stream.
    assert elapsed < 8, f"relay kept an idle upload stream open for {elapsed:.0f} s"
    assert code == "DEADLINE_EXCEEDED UPLOAD_IDLE", code
    assert world["relay"].healthy()
