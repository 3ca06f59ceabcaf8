"""The floor of the relay's stack: a bare grpc.aio server answering the relay's RPCs.

No database, no blob store, no interceptors: jobs live in a dict, uploaded bytes
are counted and dropped, and a submit hands one event message (built once) to
every SubscribeJobs stream of the shop and every WatchJob stream of the job.
``bench.relay_cost`` runs the same RPC sequence against it and against real
relays; no ``run()`` here, so ``python -m bench`` skips this module.

    python -m bench.grpc_floor --listen 127.0.0.1:PORT --ready-file PATH
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from cloudtab.v1 import (
    common_pb2,
    customer_jobs_pb2,
    customer_jobs_pb2_grpc,
    shop_jobs_pb2,
    shop_jobs_pb2_grpc,
)
from grpc import aio


class Floor:
    """In-memory jobs and the open streams."""

    def __init__(self) -> None:
        self.jobs: dict[str, common_pb2.Job] = {}
        self.shop_streams: set[asyncio.Queue[common_pb2.JobEvent]] = set()
        self.job_streams: dict[str, set[asyncio.Queue[common_pb2.JobEvent]]] = {}
        self.sequence = 0


class Customer(customer_jobs_pb2_grpc.CustomerJobsServiceServicer):
    def __init__(self, floor: Floor) -> None:
        self.floor = floor

    async def CreateJob(self, request: Any, context: Any) -> customer_jobs_pb2.CreateJobResponse:
        job = common_pb2.Job(
            job_id=uuid.uuid4().hex,
            job_code="ABC123",
            state=common_pb2.JOB_STATE_UPLOADING,
            files=[common_pb2.JobFile(index=i, size=s) for i, s in enumerate(request.file_sizes)],
            key_fingerprint=request.key_fingerprint,
        )
        self.floor.jobs[job.job_id] = job
        return customer_jobs_pb2.CreateJobResponse(job=job, customer_token=uuid.uuid4().hex, record_size=65536)

    async def UploadFile(self, request_iterator: AsyncIterator[Any], context: Any) -> Any:
        committed = 0
        async for message in request_iterator:
            committed += len(message.data)
        return customer_jobs_pb2.UploadFileResponse(committed_offset=committed, complete=True)

    async def SubmitJob(self, request: Any, context: Any) -> customer_jobs_pb2.SubmitJobResponse:
        job = self.floor.jobs[request.job_id]
        job.state = common_pb2.JOB_STATE_QUEUED
        self.floor.sequence += 1
        event = common_pb2.JobEvent(sequence=self.floor.sequence, job=job)
        for queue in self.floor.shop_streams | self.floor.job_streams.get(job.job_id, set()):
            queue.put_nowait(event)
        reply = common_pb2.Job()
        reply.CopyFrom(job)
        reply.ClearField("sealed_manifest")
        return customer_jobs_pb2.SubmitJobResponse(job=reply)

    async def WatchJob(self, request: Any, context: Any) -> AsyncIterator[Any]:
        queue: asyncio.Queue[common_pb2.JobEvent] = asyncio.Queue()
        watchers = self.floor.job_streams.setdefault(request.job_id, set())
        watchers.add(queue)
        try:
            yield customer_jobs_pb2.WatchJobResponse(event=common_pb2.JobEvent(job=self.floor.jobs[request.job_id]))
            while True:
                yield customer_jobs_pb2.WatchJobResponse(event=await queue.get())
        finally:
            watchers.discard(queue)


class ShopJobs(shop_jobs_pb2_grpc.ShopJobsServiceServicer):
    def __init__(self, floor: Floor) -> None:
        self.floor = floor

    async def Enroll(self, request: Any, context: Any) -> shop_jobs_pb2.EnrollResponse:
        return shop_jobs_pb2.EnrollResponse(
            shop_id="floor",
            shop_token=uuid.uuid4().hex,
            shop=common_pb2.Shop(slug="floor", public_key=request.public_key),
        )

    async def SubscribeJobs(self, request: Any, context: Any) -> AsyncIterator[Any]:
        queue: asyncio.Queue[common_pb2.JobEvent] = asyncio.Queue()
        self.floor.shop_streams.add(queue)
        try:
            while True:
                yield shop_jobs_pb2.SubscribeJobsResponse(event=await queue.get())
        finally:
            self.floor.shop_streams.discard(queue)


async def serve(listen: str, ready: Path) -> None:
    floor = Floor()
    server = aio.server(options=[("grpc.max_receive_message_length", 64 << 20)])
    customer_jobs_pb2_grpc.add_CustomerJobsServiceServicer_to_server(Customer(floor), server)
    shop_jobs_pb2_grpc.add_ShopJobsServiceServicer_to_server(ShopJobs(floor), server)
    port = server.add_insecure_port(listen)
    await server.start()
    ready.write_text(json.dumps({"port": port, "pid": os.getpid()}))
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.listen, args.ready_file))


if __name__ == "__main__":
    main()
