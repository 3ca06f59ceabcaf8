"""Upload rules, state rules and every authentication failure, on the embedded relay."""

from __future__ import annotations

import os
import time

import grpc
import pytest
from cloudtab.v1 import (
    customer_jobs_pb2,
    customer_jobs_pb2_grpc,
    shop_jobs_pb2,
    shop_jobs_pb2_grpc,
)

from tests.relay.helpers import (
    JS,
    bearer,
    code_of,
    create_job,
    enroll,
    error_of,
    get_shop,
    new_public_key,
    reason_of,
    submitted_job,
)

SC = grpc.StatusCode


@pytest.fixture
def setup(relay):  # type: ignore[no-untyped-def]
    slug, code = relay.add_shop("Rules Shop")
    channel = relay.channel()
    kiosk = enroll(channel, slug, code)
    yield relay, channel, kiosk
    channel.close()


def test_resume_after_dropped_upload(setup) -> None:  # type: ignore[no-untyped-def]
    _relay, channel, kiosk = setup
    data = os.urandom(3 * 1024 * 1024 + 5)
    job = create_job(channel, kiosk, [len(data)])
    cut = 1024 * 1024 + 7
    stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)

    def dropped():  # type: ignore[no-untyped-def]
        yield customer_jobs_pb2.UploadFileRequest(
            header=customer_jobs_pb2.UploadFileHeader(job_id=job.job_id, file_index=0, offset=0)
        )
        yield customer_jobs_pb2.UploadFileRequest(data=data[:cut])
        for _ in range(200):  # each chunk is committed when received: wait for it
            if job.offset(0).committed_offset == cut:
                break
            time.sleep(0.02)
        raise ConnectionError("phone lost its network")

    assert code_of(lambda: stub.UploadFile(dropped(), metadata=job.md, timeout=10)) is not None
    resume_at = job.offset(0)
    assert resume_at.committed_offset == cut and resume_at.size == len(data)
    reply = job.upload(0, data[cut:], offset=cut)
    assert reply.committed_offset == len(data) and reply.complete
    job.submit(b"manifest")
    assert kiosk.download(job.job_id, 0) == data


def test_wrong_offset_names_committed_offset(setup) -> None:  # type: ignore[no-untyped-def]
    _relay, channel, kiosk = setup
    job = create_job(channel, kiosk, [100])
    job.upload(0, b"x" * 40)
    for offset in (0, 50):
        err = error_of(lambda offset=offset: job.upload(0, b"y" * 10, offset=offset))
        assert err.code() == SC.FAILED_PRECONDITION
        assert reason_of(lambda offset=offset: job.upload(0, b"y" * 10, offset=offset)) == (
            "OFFSET_MISMATCH",
            {"committed_offset": "40"},
        )
    assert job.offset(0).committed_offset == 40


def test_size_limits(setup) -> None:  # type: ignore[no-untyped-def]
    _relay, channel, kiosk = setup
    stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)

    def create(sizes, fp=None):  # type: ignore[no-untyped-def]
        return lambda: stub.CreateJob(
            customer_jobs_pb2.CreateJobRequest(
                shop_slug=kiosk.slug, file_sizes=sizes, key_fingerprint=kiosk.fingerprint if fp is None else fp
            ),
            timeout=10,
        )

    assert code_of(create([2 * 1024**3 + 1])) == SC.RESOURCE_EXHAUSTED
    assert code_of(create([2 * 1024**3, 2 * 1024**3, 1])) == SC.RESOURCE_EXHAUSTED
    assert code_of(create([1] * 21)) == SC.RESOURCE_EXHAUSTED
    assert code_of(create([])) == SC.INVALID_ARGUMENT
    assert code_of(create([-1])) == SC.INVALID_ARGUMENT
    assert reason_of(create([0])) == ("INVALID_REQUEST", {"field": "file_sizes"})  # 0 cannot be ciphertext
    assert code_of(create([1], fp=b"short")) == SC.INVALID_ARGUMENT
    assert code_of(create([1], fp=b"\0" * 32)) == SC.FAILED_PRECONDITION
    assert (
        code_of(
            lambda: stub.CreateJob(
                customer_jobs_pb2.CreateJobRequest(shop_slug="nope", file_sizes=[1], key_fingerprint=kiosk.fingerprint)
            )
        )
        == SC.NOT_FOUND
    )
    assert (
        code_of(
            lambda: stub.CreateJob(
                customer_jobs_pb2.CreateJobRequest(
                    shop_slug="Bad Slug!", file_sizes=[1], key_fingerprint=kiosk.fingerprint
                )
            )
        )
        == SC.INVALID_ARGUMENT
    )

    job = create_job(channel, kiosk, [10])
    # data past the declared size
    assert code_of(lambda: job.upload(0, b"z" * 11)) == SC.RESOURCE_EXHAUSTED
    # one chunk over max_chunk_bytes (4 MiB + 4 KiB), within the gRPC message limit
    big = create_job(channel, kiosk, [5 * 1024 * 1024])
    err = error_of(lambda: big.upload(0, b"q" * (4 * 1024 * 1024 + 4097), chunk=4 * 1024 * 1024 + 4097))
    assert err.code() == SC.RESOURCE_EXHAUSTED
    assert big.offset(0).committed_offset == 0
    assert code_of(lambda: job.offset(1)) == SC.OUT_OF_RANGE
    assert code_of(lambda: job.upload(3, b"a")) == SC.OUT_OF_RANGE


def test_submit_rules(setup) -> None:  # type: ignore[no-untyped-def]
    _relay, channel, kiosk = setup
    job = create_job(channel, kiosk, [10, 5])
    job.upload(0, b"0123456789")
    err = error_of(lambda: job.submit(b"m"))
    assert err.code() == SC.FAILED_PRECONDITION
    assert reason_of(lambda: job.submit(b"m")) == ("FILES_INCOMPLETE", {"file_indexes": "1"})
    job.upload(1, b"01234")
    assert code_of(lambda: job.submit(b"")) == SC.INVALID_ARGUMENT
    assert code_of(lambda: job.submit(b"m" * (64 * 1024 + 1))) == SC.INVALID_ARGUMENT
    assert job.submit(b"m").state == JS.JOB_STATE_QUEUED
    assert code_of(lambda: job.submit(b"m")) == SC.FAILED_PRECONDITION
    assert code_of(lambda: job.upload(0, b"x", offset=10)) == SC.FAILED_PRECONDITION
    # Downloads need a submitted job; updates a valid target state.
    pending = create_job(channel, kiosk, [3])
    assert code_of(lambda: kiosk.download(pending.job_id, 0)) == SC.FAILED_PRECONDITION
    assert code_of(lambda: kiosk.complete(pending.job_id)) == SC.FAILED_PRECONDITION
    assert code_of(lambda: kiosk.update(job.job_id, JS.JOB_STATE_COMPLETED)) == SC.INVALID_ARGUMENT
    assert code_of(lambda: kiosk.download(job.job_id, 2)) == SC.OUT_OF_RANGE
    assert code_of(lambda: kiosk.download(job.job_id, 0, offset=11)) == SC.OUT_OF_RANGE
    assert kiosk.download(job.job_id, 0, offset=10) == b""
    for free_text in ("", "x" * 501, "out of paper", "printer ", "PRINTER", "file 2 (NAME.pdf): not a PDF"):
        assert code_of(lambda: kiosk.reject(job.job_id, free_text)) == SC.INVALID_ARGUMENT  # noqa: B023
    kiosk.complete(job.job_id)
    assert code_of(lambda: kiosk.complete(job.job_id)) == SC.FAILED_PRECONDITION
    assert code_of(lambda: kiosk.update(job.job_id, JS.JOB_STATE_PRINTING)) == SC.FAILED_PRECONDITION
    assert code_of(lambda: job.cancel()) == SC.FAILED_PRECONDITION
    assert code_of(lambda: kiosk.download(job.job_id, 0)) == SC.FAILED_PRECONDITION


def test_customer_auth_failures(setup) -> None:  # type: ignore[no-untyped-def]
    _relay, channel, kiosk = setup
    job = create_job(channel, kiosk, [4])
    other = create_job(channel, kiosk, [4])
    stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
    get = customer_jobs_pb2.GetJobRequest(job_id=job.job_id)
    bad = [
        (),  # missing
        (("authorization", "Basic abc"),),  # wrong scheme
        (("authorization", "Bearer "),),  # empty
        (("authorization", "Bearer not a token!"),),  # malformed
        bearer("A" * 43),  # unknown
        bearer(other.token),  # another job's token
        bearer(kiosk.token),  # a shop token
    ]
    for md in bad:
        assert code_of(lambda md=md: stub.GetJob(get, metadata=md, timeout=10)) == SC.UNAUTHENTICATED, md
    # A job id that does not exist is UNAUTHENTICATED too (reveals nothing).
    missing = customer_jobs_pb2.GetJobRequest(job_id="0" * 32)
    assert code_of(lambda: stub.GetJob(missing, metadata=job.md, timeout=10)) == SC.UNAUTHENTICATED
    for call in (
        lambda: other.stub.GetUploadOffset(
            customer_jobs_pb2.GetUploadOffsetRequest(job_id=job.job_id), metadata=other.md
        ),
        lambda: other.stub.SubmitJob(
            customer_jobs_pb2.SubmitJobRequest(job_id=job.job_id, sealed_manifest=b"m"), metadata=other.md
        ),
        lambda: other.stub.CancelJob(customer_jobs_pb2.CancelJobRequest(job_id=job.job_id), metadata=other.md),
        lambda: other.stub.WatchJob(customer_jobs_pb2.WatchJobRequest(job_id=job.job_id), metadata=other.md, timeout=5),
        lambda: CustomerJobOther(other, job.job_id).upload(),
    ):
        assert code_of(call) == SC.UNAUTHENTICATED
    assert job.get().state == JS.JOB_STATE_UPLOADING


class CustomerJobOther:
    """Uploads to ``job_id`` with another job's token."""

    def __init__(self, other, job_id: str) -> None:  # type: ignore[no-untyped-def]
        self.other, self.job_id = other, job_id

    def upload(self):  # type: ignore[no-untyped-def]
        def msgs():  # type: ignore[no-untyped-def]
            yield customer_jobs_pb2.UploadFileRequest(header=customer_jobs_pb2.UploadFileHeader(job_id=self.job_id))
            yield customer_jobs_pb2.UploadFileRequest(data=b"evil")

        return self.other.stub.UploadFile(msgs(), metadata=self.other.md, timeout=10)


def test_shop_auth_failures_and_isolation(setup) -> None:  # type: ignore[no-untyped-def]
    relay, channel, kiosk = setup
    slug2, code2 = relay.add_shop("Other Shop")
    kiosk2 = enroll(channel, slug2, code2)
    job = create_job(channel, kiosk, [2])
    job.upload(0, b"hi")
    job.submit(b"m")
    stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
    req = shop_jobs_pb2.ShopJobsServiceGetJobRequest(job_id=job.job_id)
    for md in [
        (),
        (("authorization", "Bearer"),),
        bearer("B" * 43),
        bearer(job.token),
        (("authorization", "Token x"),),
    ]:
        assert code_of(lambda md=md: stub.GetJob(req, metadata=md, timeout=10)) == SC.UNAUTHENTICATED
        assert (
            code_of(lambda md=md: stub.SubscribeJobs(shop_jobs_pb2.SubscribeJobsRequest(), metadata=md, timeout=5))
            == SC.UNAUTHENTICATED
        )
    # Another shop's job looks exactly like a missing one.
    for call in (
        lambda: kiosk2.get_job(job.job_id),
        lambda: kiosk2.download(job.job_id, 0),
        lambda: kiosk2.update(job.job_id, JS.JOB_STATE_RECEIVED),
        lambda: kiosk2.complete(job.job_id),
        lambda: kiosk2.reject(job.job_id, "printer"),
        lambda: kiosk.get_job("f" * 32),
    ):
        assert code_of(call) == SC.NOT_FOUND
    assert kiosk.get_job(job.job_id).state == JS.JOB_STATE_QUEUED

    # Enrollment codes: single use, unknown codes and bad keys.
    enroll_stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
    again = shop_jobs_pb2.EnrollRequest(enrollment_code=code2, public_key=new_public_key(), kiosk_version="0.1.0")
    assert code_of(lambda: enroll_stub.Enroll(again, timeout=10)) == SC.UNAUTHENTICATED
    unknown = shop_jobs_pb2.EnrollRequest(
        enrollment_code="AAAA-BBBB-CCCC-DDDD", public_key=new_public_key(), kiosk_version="0.1.0"
    )
    assert code_of(lambda: enroll_stub.Enroll(unknown, timeout=10)) == SC.UNAUTHENTICATED
    assert reason_of(lambda: enroll_stub.Enroll(unknown, timeout=10))[0] == "ENROLLMENT_CODE_INVALID"
    slug3, code3 = relay.add_shop("Third")
    not_a_point = b"\x04" + b"\x01" * 64
    for key in (b"", b"\x02" + b"\x01" * 32, not_a_point):
        bad_key = shop_jobs_pb2.EnrollRequest(enrollment_code=code3, public_key=key, kiosk_version="0.1.0")
        assert code_of(lambda bad_key=bad_key: enroll_stub.Enroll(bad_key, timeout=10)) == SC.INVALID_ARGUMENT
    old = shop_jobs_pb2.EnrollRequest(enrollment_code=code3, public_key=new_public_key(), kiosk_version="0.0.9")
    assert code_of(lambda: enroll_stub.Enroll(old, timeout=10)) == SC.FAILED_PRECONDITION
    assert reason_of(lambda: enroll_stub.Enroll(old, timeout=10)) == ("KIOSK_TOO_OLD", {"min_kiosk_version": "0.1.0"})
    # A kiosk must say its version: an empty one does not bypass the gate.
    unversioned = shop_jobs_pb2.EnrollRequest(enrollment_code=code3, public_key=new_public_key())
    assert reason_of(lambda: enroll_stub.Enroll(unversioned, timeout=10)) == (
        "INVALID_REQUEST",
        {"field": "kiosk_version"},
    )
    # A shop that has not enrolled is not in the directory; the failed attempts did not burn the code.
    assert code_of(lambda: get_shop(channel, slug3)) == SC.NOT_FOUND
    enroll(channel, slug3, code3)
    assert get_shop(channel, slug3).slug == slug3

    # Revocation: the token stops working at once, and so does the open stream;
    # the shop's unfinished jobs end rejected with a plain reason.
    queued = submitted_job(channel, kiosk2, [b"q" * 10])
    uploading = create_job(channel, kiosk2, [10])
    stream = kiosk2.subscribe(timeout=30)
    assert "2 unfinished jobs rejected" in relay.cli("shop", "revoke", slug2)
    assert code_of(lambda: kiosk2.get_job(job.job_id)) == SC.UNAUTHENTICATED
    assert code_of(lambda: stream) == SC.UNAUTHENTICATED
    assert code_of(lambda: get_shop(channel, slug2)) == SC.NOT_FOUND
    for ended in (queued, uploading):
        seen = ended.get()
        assert seen.state == JS.JOB_STATE_REJECTED and "no longer takes jobs" in seen.reason
        assert ended.offset(0).committed_offset == 0  # the ciphertext is gone
    last = list(queued.watch(timeout=10))[-1]
    assert last.event.job.state == JS.JOB_STATE_REJECTED


def test_rotate_key(setup) -> None:  # type: ignore[no-untyped-def]
    _relay, channel, kiosk = setup
    old_fp = kiosk.fingerprint
    new_key = new_public_key()
    reply = kiosk.stub.RotateKey(shop_jobs_pb2.RotateKeyRequest(public_key=new_key), metadata=kiosk.md, timeout=10)
    assert reply.shop.public_key == new_key
    assert get_shop(channel, kiosk.slug).public_key == new_key
    stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
    stale = customer_jobs_pb2.CreateJobRequest(shop_slug=kiosk.slug, file_sizes=[1], key_fingerprint=old_fp)
    assert code_of(lambda: stub.CreateJob(stale, timeout=10)) == SC.FAILED_PRECONDITION
    bad = shop_jobs_pb2.RotateKeyRequest(public_key=b"\x04" + b"\x00" * 64)
    assert code_of(lambda: kiosk.stub.RotateKey(bad, metadata=kiosk.md, timeout=10)) == SC.INVALID_ARGUMENT


def test_idle_upload_stream_gets_deadline_exceeded(relay_factory) -> None:  # type: ignore[no-untyped-def]
    relay = relay_factory(name="idle", env={"CLOUDTAB_RELAY_UPLOAD_IDLE_SECONDS": "1"})
    slug, code = relay.add_shop("Idle Shop")
    with relay.channel() as channel:
        kiosk = enroll(channel, slug, code)
        job = create_job(channel, kiosk, [10])
        stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)

        def stalled():  # type: ignore[no-untyped-def]
            yield customer_jobs_pb2.UploadFileRequest(header=customer_jobs_pb2.UploadFileHeader(job_id=job.job_id))
            yield customer_jobs_pb2.UploadFileRequest(data=b"01234")
            time.sleep(3)  # the phone stalls

        err = error_of(lambda: stub.UploadFile(stalled(), metadata=job.md, timeout=10))
        assert err.code() == SC.DEADLINE_EXCEEDED
        assert job.offset(0).committed_offset == 5
