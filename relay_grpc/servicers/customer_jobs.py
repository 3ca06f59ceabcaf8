"""CustomerJobsService: create, upload, submit, cancel, get and watch a job."""

from __future__ import annotations

from collections.abc import AsyncIterator

from cloudtab.v1 import customer_jobs_pb2 as pb
from cloudtab.v1 import customer_jobs_pb2_grpc
from grpc import aio

from relay_grpc import callinfo
from relay_grpc.app import Relay
from relay_grpc.boundary import peer_key
from relay_grpc.errors import Reason, RelayError
from relay_grpc.servicers.convert import (
    encoded_once,
    event_to_proto,
    heartbeat_to_proto,
    job_to_proto,
    timestamp,
)
from relay_grpc.transfers import idle_limited
from relay_grpc.views import EventView, HeartbeatView


def _job_beat(beat: HeartbeatView) -> pb.WatchJobResponse:
    return pb.WatchJobResponse(heartbeat=heartbeat_to_proto(beat))


def _job_event(event: EventView) -> pb.WatchJobResponse:
    return pb.WatchJobResponse(event=event_to_proto(event))


class CustomerJobsServicer(customer_jobs_pb2_grpc.CustomerJobsServiceServicer):
    """Proto <-> domain for the customer's side; the token comes from the auth interceptor."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    async def CreateJob(self, request: pb.CreateJobRequest, context: aio.ServicerContext) -> pb.CreateJobResponse:
        job, token, upload_expires = await self.relay.jobs.create_job(
            shop_slug=request.shop_slug,
            file_sizes=list(request.file_sizes),
            key_fingerprint=request.key_fingerprint,
            peer=peer_key(context.peer() or ""),
        )
        callinfo.note_job(job.job_id)
        return pb.CreateJobResponse(
            job=job_to_proto(job),
            customer_token=token,
            record_size=self.relay.config.record_size,
            upload_expire_time=timestamp(upload_expires),
        )

    async def UploadFile(
        self, request_iterator: AsyncIterator[pb.UploadFileRequest], context: aio.ServicerContext
    ) -> pb.UploadFileResponse:
        # One idle limit for the whole stream, the header included (slow-loris guard).
        # Only bytes count as activity: empty data messages do not keep a stream alive.
        # (A message with empty data encodes to 2 bytes; reading m.data would copy the chunk.)
        messages = aiter(
            idle_limited(
                request_iterator,
                self.relay.config.upload_idle_seconds,
                progress=lambda m: m.ByteSize() > 2 or m.WhichOneof("payload") == "header",
            )
        )
        first = await anext(messages, None)
        if first is None or first.WhichOneof("payload") != "header":
            raise RelayError(Reason.INVALID_REQUEST, "the first UploadFile message must be a header", field="header")
        header = first.header
        callinfo.note_job(header.job_id)
        upload = await self.relay.transfers.begin_upload(
            header.job_id, callinfo.current().token, header.file_index, header.offset
        )
        try:
            async for message in messages:
                if message.WhichOneof("payload") != "data":
                    raise RelayError(
                        Reason.INVALID_REQUEST, "only the first UploadFile message may be a header", field="header"
                    )
                await upload.append(message.data)
        finally:
            committed, complete = await upload.close()
        return pb.UploadFileResponse(committed_offset=committed, complete=complete)

    async def GetUploadOffset(
        self, request: pb.GetUploadOffsetRequest, context: aio.ServicerContext
    ) -> pb.GetUploadOffsetResponse:
        callinfo.note_job(request.job_id)
        committed, size = await self.relay.transfers.upload_offset(
            request.job_id, callinfo.current().token, request.file_index
        )
        return pb.GetUploadOffsetResponse(committed_offset=committed, size=size)

    async def SubmitJob(self, request: pb.SubmitJobRequest, context: aio.ServicerContext) -> pb.SubmitJobResponse:
        callinfo.note_job(request.job_id)
        job = await self.relay.jobs.submit(request.job_id, callinfo.current().token, request.sealed_manifest)
        return pb.SubmitJobResponse(job=job_to_proto(job))

    async def CancelJob(self, request: pb.CancelJobRequest, context: aio.ServicerContext) -> pb.CancelJobResponse:
        callinfo.note_job(request.job_id)
        job = await self.relay.jobs.cancel(request.job_id, callinfo.current().token)
        return pb.CancelJobResponse(job=job_to_proto(job))

    async def GetJob(self, request: pb.GetJobRequest, context: aio.ServicerContext) -> pb.GetJobResponse:
        callinfo.note_job(request.job_id)
        job = await self.relay.jobs.customer_job(request.job_id, callinfo.current().token)
        return pb.GetJobResponse(job=job_to_proto(job))

    async def WatchJob(
        self, request: pb.WatchJobRequest, context: aio.ServicerContext
    ) -> AsyncIterator[pb.WatchJobResponse]:
        callinfo.note_job(request.job_id)
        stream = self.relay.streams.job_stream(request.job_id, callinfo.current().token, request.after_sequence)
        async for item in stream:
            if isinstance(item, EventView):
                yield encoded_once(item, "job", _job_event)
            else:
                yield encoded_once(item, "job_beat", _job_beat)
