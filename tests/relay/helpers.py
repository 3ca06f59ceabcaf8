"""Small synchronous gRPC clients for the relay tests (no envelope: the relay only
ever sees opaque bytes, so random bytes stand in for ciphertext)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
from cloudtab.v1 import (
    common_pb2,
    customer_jobs_pb2,
    customer_jobs_pb2_grpc,
    shop_directory_pb2,
    shop_directory_pb2_grpc,
    shop_jobs_pb2,
    shop_jobs_pb2_grpc,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cloudtab_rpc.status import error_info

CHUNK = 256 * 1024


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    """Call metadata carrying ``token``."""
    return (("authorization", f"Bearer {token}"),)


def new_public_key() -> bytes:
    """A fresh P-256 public key as the 65-byte uncompressed point."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass
class Kiosk:
    """An enrolled shop as the kiosk sees it."""

    channel: grpc.Channel
    shop_id: str
    slug: str
    token: str
    public_key: bytes

    @property
    def fingerprint(self) -> bytes:
        return hashlib.sha256(self.public_key).digest()

    @property
    def stub(self) -> shop_jobs_pb2_grpc.ShopJobsServiceStub:
        return shop_jobs_pb2_grpc.ShopJobsServiceStub(self.channel)

    @property
    def md(self) -> tuple[tuple[str, str], ...]:
        return bearer(self.token)

    def get_job(self, job_id: str) -> common_pb2.Job:
        return self.stub.GetJob(
            shop_jobs_pb2.ShopJobsServiceGetJobRequest(job_id=job_id), metadata=self.md, timeout=10
        ).job

    def download(self, job_id: str, index: int, offset: int = 0) -> bytes:
        out = bytearray()
        for msg in self.stub.DownloadFile(
            shop_jobs_pb2.DownloadFileRequest(job_id=job_id, file_index=index, offset=offset),
            metadata=self.md,
            timeout=60,
        ):
            assert msg.offset == offset + len(out)
            out += msg.data
        return bytes(out)

    def update(self, job_id: str, state: int) -> common_pb2.Job:
        return self.stub.UpdateJob(
            shop_jobs_pb2.UpdateJobRequest(job_id=job_id, state=state), metadata=self.md, timeout=10
        ).job

    def complete(self, job_id: str) -> common_pb2.Job:
        return self.stub.CompleteJob(shop_jobs_pb2.CompleteJobRequest(job_id=job_id), metadata=self.md, timeout=10).job

    def reject(self, job_id: str, reason: str) -> common_pb2.Job:
        return self.stub.RejectJob(
            shop_jobs_pb2.RejectJobRequest(job_id=job_id, reason=reason), metadata=self.md, timeout=10
        ).job

    def subscribe(self, after: int = 0, timeout: float = 30) -> Iterator[shop_jobs_pb2.SubscribeJobsResponse]:
        return self.stub.SubscribeJobs(
            shop_jobs_pb2.SubscribeJobsRequest(after_sequence=after, kiosk_version="0.1.0"),
            metadata=self.md,
            timeout=timeout,
        )


def enroll(channel: grpc.Channel, slug: str, code: str) -> Kiosk:
    """Redeem ``code`` with a fresh key."""
    public_key = new_public_key()
    stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
    reply = stub.Enroll(
        shop_jobs_pb2.EnrollRequest(enrollment_code=code, public_key=public_key, kiosk_version="0.1.0"), timeout=10
    )
    return Kiosk(channel, reply.shop_id, slug, reply.shop_token, public_key)


@dataclass
class CustomerJob:
    """A job as the customer holds it."""

    channel: grpc.Channel
    job: common_pb2.Job
    token: str

    @property
    def job_id(self) -> str:
        return self.job.job_id

    @property
    def stub(self) -> customer_jobs_pb2_grpc.CustomerJobsServiceStub:
        return customer_jobs_pb2_grpc.CustomerJobsServiceStub(self.channel)

    @property
    def md(self) -> tuple[tuple[str, str], ...]:
        return bearer(self.token)

    def upload(
        self, index: int, data: bytes, offset: int = 0, chunk: int = CHUNK
    ) -> customer_jobs_pb2.UploadFileResponse:
        def messages() -> Iterator[customer_jobs_pb2.UploadFileRequest]:
            yield customer_jobs_pb2.UploadFileRequest(
                header=customer_jobs_pb2.UploadFileHeader(job_id=self.job_id, file_index=index, offset=offset)
            )
            for start in range(0, len(data), chunk):
                yield customer_jobs_pb2.UploadFileRequest(data=data[start : start + chunk])

        return self.stub.UploadFile(messages(), metadata=self.md, timeout=60)

    def offset(self, index: int) -> customer_jobs_pb2.GetUploadOffsetResponse:
        return self.stub.GetUploadOffset(
            customer_jobs_pb2.GetUploadOffsetRequest(job_id=self.job_id, file_index=index), metadata=self.md, timeout=10
        )

    def submit(self, manifest: bytes) -> common_pb2.Job:
        return self.stub.SubmitJob(
            customer_jobs_pb2.SubmitJobRequest(job_id=self.job_id, sealed_manifest=manifest),
            metadata=self.md,
            timeout=10,
        ).job

    def get(self) -> common_pb2.Job:
        return self.stub.GetJob(customer_jobs_pb2.GetJobRequest(job_id=self.job_id), metadata=self.md, timeout=10).job

    def cancel(self) -> common_pb2.Job:
        return self.stub.CancelJob(
            customer_jobs_pb2.CancelJobRequest(job_id=self.job_id), metadata=self.md, timeout=10
        ).job

    def watch(self, after: int = 0, timeout: float = 30) -> Iterator[customer_jobs_pb2.WatchJobResponse]:
        return self.stub.WatchJob(
            customer_jobs_pb2.WatchJobRequest(job_id=self.job_id, after_sequence=after),
            metadata=self.md,
            timeout=timeout,
        )


def create_job(channel: grpc.Channel, kiosk: Kiosk, sizes: list[int]) -> CustomerJob:
    """CreateJob for the kiosk's shop, sealed to its current key."""
    stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
    reply = stub.CreateJob(
        customer_jobs_pb2.CreateJobRequest(shop_slug=kiosk.slug, file_sizes=sizes, key_fingerprint=kiosk.fingerprint),
        timeout=10,
    )
    return CustomerJob(channel, reply.job, reply.customer_token)


def submitted_job(channel: grpc.Channel, kiosk: Kiosk, files: list[bytes], manifest: bytes = b"") -> CustomerJob:
    """Create, upload every file and submit."""
    job = create_job(channel, kiosk, [len(f) for f in files])
    for i, data in enumerate(files):
        job.upload(i, data)
    job.submit(manifest or os.urandom(200))
    return job


def get_shop(channel: grpc.Channel, slug: str) -> common_pb2.Shop:
    return (
        shop_directory_pb2_grpc.ShopDirectoryServiceStub(channel)
        .GetShop(shop_directory_pb2.GetShopRequest(slug=slug), timeout=10)
        .shop
    )


def code_of(call) -> grpc.StatusCode | None:  # type: ignore[no-untyped-def]
    """Run ``call()`` (consuming a stream); the status code, or None for OK."""
    try:
        result = call()
        if hasattr(result, "__iter__") and not hasattr(result, "ListFields"):
            for _ in result:
                pass
    except grpc.RpcError as exc:
        return exc.code()
    return None


def reason_of(call) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Run ``call()``; the ErrorInfo reason and metadata of the error it must raise."""
    info = error_info(error_of(call))
    assert info.reason is not None, f"no ErrorInfo on {info.code.name}: {info.message}"
    return info.reason.value, dict(info.metadata)


def error_of(call) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    """Run ``call()``; return the RpcError it must raise."""
    try:
        result = call()
        if hasattr(result, "__iter__") and not hasattr(result, "ListFields"):
            for _ in result:
                pass
    except grpc.RpcError as exc:
        return exc
    raise AssertionError("expected an RpcError")


JS = common_pb2.JobState
