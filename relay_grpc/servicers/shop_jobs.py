"""ShopJobsService: enrollment, key rotation, the job stream, downloads, progress."""

from __future__ import annotations

from collections.abc import AsyncIterator

from cloudtab.v1 import shop_jobs_pb2 as pb
from cloudtab.v1 import shop_jobs_pb2_grpc
from grpc import aio

from relay_grpc import callinfo
from relay_grpc.app import Relay
from relay_grpc.errors import Reason, RelayError
from relay_grpc.servicers.convert import (
    capabilities_from_proto,
    encoded_once,
    event_to_proto,
    heartbeat_to_proto,
    job_to_proto,
    shop_to_proto,
    state_from_proto,
)
from relay_grpc.servicers.statements import statement_bytes
from relay_grpc.store.models import Shop
from relay_grpc.views import EventView, HeartbeatView


def _shop_beat(beat: HeartbeatView) -> pb.SubscribeJobsResponse:
    return pb.SubscribeJobsResponse(heartbeat=heartbeat_to_proto(beat))


def _shop_event(event: EventView) -> pb.SubscribeJobsResponse:
    return pb.SubscribeJobsResponse(event=event_to_proto(event))


def _shop() -> Shop:
    shop = callinfo.current().shop
    if shop is None:  # the auth interceptor always sets it; never reached in service
        raise RuntimeError("ShopJobsService called without an authenticated shop")
    return shop


class ShopJobsServicer(shop_jobs_pb2_grpc.ShopJobsServiceServicer):
    """Proto <-> domain for the kiosk's side; the shop comes from the auth interceptor."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    async def Enroll(self, request: pb.EnrollRequest, context: aio.ServicerContext) -> pb.EnrollResponse:
        shop, profile, token = await self.relay.shops.enroll(
            request.enrollment_code, request.public_key, request.kiosk_version, request.signing_key
        )
        callinfo.current().shop_slug = shop.slug
        return pb.EnrollResponse(shop_id=shop.id, shop=shop_to_proto(profile), shop_token=token)

    async def RotateKey(self, request: pb.RotateKeyRequest, context: aio.ServicerContext) -> pb.RotateKeyResponse:
        profile = await self.relay.shops.rotate_key(
            _shop().id, request.public_key, request.signing_key, token_hash=_shop().token_hash
        )
        return pb.RotateKeyResponse(shop=shop_to_proto(profile))

    async def SubscribeJobs(
        self, request: pb.SubscribeJobsRequest, context: aio.ServicerContext
    ) -> AsyncIterator[pb.SubscribeJobsResponse]:
        stream = self.relay.streams.shop_stream(_shop(), request.after_sequence, request.kiosk_version)
        async for item in stream:
            if isinstance(item, EventView):
                yield encoded_once(item, "shop", _shop_event)
            else:
                yield encoded_once(item, "shop_beat", _shop_beat)

    async def GetJob(
        self, request: pb.ShopJobsServiceGetJobRequest, context: aio.ServicerContext
    ) -> pb.ShopJobsServiceGetJobResponse:
        callinfo.note_job(request.job_id)
        job = await self.relay.jobs.shop_view(_shop().id, request.job_id)
        return pb.ShopJobsServiceGetJobResponse(job=job_to_proto(job))

    async def DownloadFile(
        self, request: pb.DownloadFileRequest, context: aio.ServicerContext
    ) -> AsyncIterator[pb.DownloadFileResponse]:
        callinfo.note_job(request.job_id)
        chunks = await self.relay.transfers.download(_shop().id, request.job_id, request.file_index, request.offset)
        async for offset, data in chunks:
            yield pb.DownloadFileResponse(offset=offset, data=data)

    async def UpdateJob(self, request: pb.UpdateJobRequest, context: aio.ServicerContext) -> pb.UpdateJobResponse:
        callinfo.note_job(request.job_id)
        state = state_from_proto(request.state)
        if state is None:
            raise RelayError(Reason.INVALID_REQUEST, "state must be RECEIVED or PRINTING", field="state")
        job = await self.relay.jobs.update(_shop().id, request.job_id, state, statement_bytes(request))
        return pb.UpdateJobResponse(job=job_to_proto(job))

    async def CompleteJob(self, request: pb.CompleteJobRequest, context: aio.ServicerContext) -> pb.CompleteJobResponse:
        callinfo.note_job(request.job_id)
        job = await self.relay.jobs.complete(_shop().id, request.job_id, statement_bytes(request))
        return pb.CompleteJobResponse(job=job_to_proto(job))

    async def RejectJob(self, request: pb.RejectJobRequest, context: aio.ServicerContext) -> pb.RejectJobResponse:
        callinfo.note_job(request.job_id)
        job = await self.relay.jobs.reject(_shop().id, request.job_id, request.reason, statement_bytes(request))
        return pb.RejectJobResponse(job=job_to_proto(job))

    async def PublishCapabilities(
        self, request: pb.PublishCapabilitiesRequest, context: aio.ServicerContext
    ) -> pb.PublishCapabilitiesResponse:
        caps = capabilities_from_proto(request.capabilities)
        profile = await self.relay.shops.publish_capabilities(_shop().id, caps)
        return pb.PublishCapabilitiesResponse(shop=shop_to_proto(profile))
