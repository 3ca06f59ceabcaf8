"""A test customer: seals a document to the shop's key and sends it through the relay.

Uses the envelope package for HPKE + STREAM and the published
CustomerJobsService (create, upload, submit), exactly as the browser does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
from cloudtab.v1 import customer_jobs_pb2, customer_jobs_pb2_grpc

from envelope.keys import public_key_from_bytes
from envelope.manifest import (
    Customer,
    FileEntry,
    JobOptions,
    Manifest,
    new_content_key,
    seal_manifest,
)
from envelope.stream import file_key, seal_bytes

CHUNK = 256 * 1024
CUSTOMER_NAME = "Ada Lovelace"


def _uploads(job_id: str, index: int, data: bytes) -> Iterator[customer_jobs_pb2.UploadFileRequest]:
    yield customer_jobs_pb2.UploadFileRequest(
        header=customer_jobs_pb2.UploadFileHeader(job_id=job_id, file_index=index, offset=0)
    )
    for start in range(0, len(data), CHUNK):
        yield customer_jobs_pb2.UploadFileRequest(data=data[start : start + CHUNK])


def send_job(
    relay_address: str, shop: Any, document: str | bytes, *, name: str = "flyer.pdf", options: JobOptions | None = None
) -> dict[str, Any]:
    """Create, upload and submit one PDF job for ``shop`` (a ShopProfile); returns ids and token.

    Raises:
        grpc.RpcError: any relay refusal.
    """
    data = document if isinstance(document, bytes) else Path(document).read_bytes()
    key = new_content_key()
    sealed = seal_bytes(file_key(key, 0), data)
    manifest = Manifest(
        content_key=key,
        files=(
            FileEntry(
                name=name, type="application/pdf", size=len(data), sha256=hashlib.sha256(data).hexdigest(), copies=2
            ),
        ),
        customer=Customer(name=CUSTOMER_NAME, note="Two copies please"),
        options=options or JobOptions(color="color", sides="two-sided-long-edge", media="A4"),
    )
    with grpc.insecure_channel(relay_address) as channel:
        stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
        created = stub.CreateJob(
            customer_jobs_pb2.CreateJobRequest(
                shop_slug=shop.slug, file_sizes=[len(sealed)], key_fingerprint=shop.fingerprint
            ),
            timeout=10,
        )
        job_id = created.job.job_id
        metadata = (("authorization", f"Bearer {created.customer_token}"),)
        stub.UploadFile(_uploads(job_id, 0, sealed), metadata=metadata, timeout=30)
        sealed_manifest = seal_manifest(manifest, public_key_from_bytes(shop.public_key), job_id)
        stub.SubmitJob(
            customer_jobs_pb2.SubmitJobRequest(job_id=job_id, sealed_manifest=sealed_manifest),
            metadata=metadata,
            timeout=10,
        )
    return {"job_id": job_id, "job_code": created.job.job_code, "token": created.customer_token}


def job_state(relay_address: str, sent: dict[str, Any]) -> str:
    """The job's state name at the relay, as the customer sees it."""
    from cloudtab.v1 import common_pb2

    with grpc.insecure_channel(relay_address) as channel:
        stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
        job = stub.GetJob(
            customer_jobs_pb2.GetJobRequest(job_id=sent["job_id"]),
            metadata=(("authorization", f"Bearer {sent['token']}"),),
            timeout=10,
        ).job
    return common_pb2.JobState.Name(job.state)
