"""An in-memory stand-in for the relay client, for the Flask unit tests only.

It implements the same methods as :class:`web_bridge.relay_client.RelayClient` and
fails with :class:`RelayCallError` carrying the reasons of ``cloudtab_rpc.reasons``
(as the relay sends them), so the routes and limits are tested without a network.
The error mapping itself is checked against a real relay in tests/contract; the
browser tests use a real relay too.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import grpc
from cloudtab.v1 import common_pb2, customer_jobs_pb2, shop_directory_pb2

from cloudtab_rpc.reasons import Reason
from web_bridge.relay_client import RelayCallError, WatchStream

PUBLIC_KEY = b"\x04" + bytes(range(64))


@dataclass
class FakeJob:
    job: common_pb2.Job
    token: str
    data: list[bytearray] = field(default_factory=list)


class _Call:
    def __init__(self, items: list[customer_jobs_pb2.WatchJobResponse]) -> None:
        self._items = iter(items)
        self.cancelled = False

    def __iter__(self) -> Iterator[customer_jobs_pb2.WatchJobResponse]:
        return self._items

    def cancel(self) -> None:
        self.cancelled = True


def refuse(op: str, reason: Reason, **metadata: object) -> RelayCallError:
    """The error the relay client raises for a refusal with ``reason``."""
    code = getattr(grpc.StatusCode, reason.status)
    return RelayCallError(op, code, f"refused: {reason}", reason, {k: str(v) for k, v in metadata.items()})


class FakeRelay:
    """Shops and jobs in memory.

    ``fail_next[op] = Reason.X`` makes the next ``op`` refused with that reason;
    ``fail_next[op] = grpc.StatusCode.UNAVAILABLE`` fails it without one (the relay
    not reached).
    """

    def __init__(self) -> None:
        self.shops: dict[str, common_pb2.Shop] = {}
        self.jobs: dict[str, FakeJob] = {}
        self.fail_next: dict[str, Reason | grpc.StatusCode] = {}
        self.calls: list[str] = []
        self.upload_pieces: list[int] = []
        self.watch_calls: list[_Call] = []

    def add_shop(self, slug: str, **limits: int) -> common_pb2.Shop:
        shop = common_pb2.Shop(
            slug=slug,
            display_name=f"Shop {slug}",
            public_key=PUBLIC_KEY,
            key_fingerprint=hashlib.sha256(PUBLIC_KEY).digest(),
            key_fingerprint_display="ABCD-EFGH-JKMN-PQRS",
            limits=common_pb2.UploadLimits(
                max_file_bytes=limits.get("max_file_bytes", 10_000_000),
                max_job_bytes=limits.get("max_job_bytes", 20_000_000),
                max_files_per_job=limits.get("max_files_per_job", 5),
                max_chunk_bytes=4 * 1024 * 1024,
            ),
            accepted_media_types=["application/pdf", "image/jpeg", "image/png"],
            retention_seconds=1800,
            online=True,
        )
        self.shops[slug] = shop
        return shop

    def _check(self, op: str) -> None:
        self.calls.append(op)
        failure = self.fail_next.pop(op, None)
        if isinstance(failure, Reason):
            raise refuse(op, failure, **dict.fromkeys(failure.spec.metadata, "0"))
        if failure is not None:
            raise RelayCallError(op, failure, "connection failed")

    def _job(self, op: str, token: str, job_id: str) -> FakeJob:
        job = self.jobs.get(job_id)
        if job is None or not secrets.compare_digest(job.token, token):
            raise refuse(op, Reason.TOKEN_INVALID)
        return job

    def get_shop(self, slug: str) -> shop_directory_pb2.GetShopResponse:
        self._check("GetShop")
        if slug not in self.shops:
            raise refuse("GetShop", Reason.SHOP_NOT_FOUND)
        return shop_directory_pb2.GetShopResponse(shop=self.shops[slug])

    def create_job(
        self, slug: str, file_sizes: list[int], key_fingerprint: bytes
    ) -> customer_jobs_pb2.CreateJobResponse:
        self._check("CreateJob")
        shop = self.shops.get(slug)
        if shop is None:
            raise refuse("CreateJob", Reason.SHOP_NOT_FOUND)
        if key_fingerprint != shop.key_fingerprint:
            raise refuse("CreateJob", Reason.KEY_CHANGED)
        job_id = secrets.token_urlsafe(12)
        token = secrets.token_urlsafe(32)
        job = common_pb2.Job(
            job_id=job_id,
            job_code="ABC234",
            state=common_pb2.JOB_STATE_UPLOADING,
            files=[common_pb2.JobFile(index=i, size=s) for i, s in enumerate(file_sizes)],
            key_fingerprint=key_fingerprint,
        )
        self.jobs[job_id] = FakeJob(job, token, [bytearray() for _ in file_sizes])
        return customer_jobs_pb2.CreateJobResponse(job=job, customer_token=token, record_size=65536)

    def upload_file(
        self, token: str, job_id: str, file_index: int, offset: int, chunks: Iterable[bytes]
    ) -> customer_jobs_pb2.UploadFileResponse:
        self._check("UploadFile")
        job = self._job("UploadFile", token, job_id)
        if not 0 <= file_index < len(job.data):
            raise refuse("UploadFile", Reason.NO_SUCH_FILE, file_index=file_index)
        data = job.data[file_index]
        if offset != len(data):
            raise refuse("UploadFile", Reason.OFFSET_MISMATCH, committed_offset=len(data))
        size = job.job.files[file_index].size
        for chunk in chunks:
            self.upload_pieces.append(len(chunk))
            if len(data) + len(chunk) > size:
                raise refuse("UploadFile", Reason.PAST_DECLARED_SIZE, size=size)
            data += chunk
        job.job.files[file_index].committed_size = len(data)
        return customer_jobs_pb2.UploadFileResponse(committed_offset=len(data), complete=len(data) == size)

    def get_upload_offset(self, token: str, job_id: str, file_index: int) -> customer_jobs_pb2.GetUploadOffsetResponse:
        self._check("GetUploadOffset")
        job = self._job("GetUploadOffset", token, job_id)
        if not 0 <= file_index < len(job.data):
            raise refuse("GetUploadOffset", Reason.NO_SUCH_FILE, file_index=file_index)
        return customer_jobs_pb2.GetUploadOffsetResponse(
            committed_offset=len(job.data[file_index]), size=job.job.files[file_index].size
        )

    def submit_job(self, token: str, job_id: str, sealed_manifest: bytes) -> customer_jobs_pb2.SubmitJobResponse:
        self._check("SubmitJob")
        job = self._job("SubmitJob", token, job_id)
        if any(f.committed_size != f.size for f in job.job.files):
            raise refuse("SubmitJob", Reason.FILES_INCOMPLETE, file_indexes="0")
        job.job.state = common_pb2.JOB_STATE_QUEUED
        job.job.sealed_manifest = sealed_manifest
        public = common_pb2.Job()
        public.CopyFrom(job.job)
        public.ClearField("sealed_manifest")
        return customer_jobs_pb2.SubmitJobResponse(job=public)

    def cancel_job(self, token: str, job_id: str) -> customer_jobs_pb2.CancelJobResponse:
        self._check("CancelJob")
        job = self._job("CancelJob", token, job_id)
        job.job.state = common_pb2.JOB_STATE_CANCELLED
        return customer_jobs_pb2.CancelJobResponse(job=job.job)

    def get_job(self, token: str, job_id: str) -> customer_jobs_pb2.GetJobResponse:
        self._check("GetJob")
        return customer_jobs_pb2.GetJobResponse(job=self._job("GetJob", token, job_id).job)

    def watch_job(self, token: str, job_id: str, after_sequence: int, max_seconds: float) -> WatchStream:
        self._check("WatchJob")
        job = self._job("WatchJob", token, job_id)
        items = [customer_jobs_pb2.WatchJobResponse(heartbeat=common_pb2.Heartbeat(latest_sequence=after_sequence))]
        for seq, state in enumerate(
            (common_pb2.JOB_STATE_QUEUED, common_pb2.JOB_STATE_PRINTING, common_pb2.JOB_STATE_COMPLETED),
            start=1,
        ):
            if seq <= after_sequence:
                continue
            snapshot = common_pb2.Job()
            snapshot.CopyFrom(job.job)
            snapshot.state = state
            items.append(customer_jobs_pb2.WatchJobResponse(event=common_pb2.JobEvent(sequence=seq, job=snapshot)))
        call = _Call(items)
        self.watch_calls.append(call)
        return WatchStream(responses=iter(call), call=call)  # type: ignore[arg-type]
