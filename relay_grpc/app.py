"""The relay's object graph: database, blob store, broker and services, opened
and closed together. ``server.py`` puts gRPC in front of it."""

from __future__ import annotations

import dataclasses
import logging

from relay_grpc.config import RelayConfig
from relay_grpc.events import BaseBroker, make_broker
from relay_grpc.jobs import JobService
from relay_grpc.reaper import Reaper
from relay_grpc.shops import ShopService
from relay_grpc.store.blobs import BlobStore, open_blob_store
from relay_grpc.store.db import Database
from relay_grpc.streams import StreamService
from relay_grpc.transfers import TransferService

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Relay:
    """Everything a relay process holds; see ``open_relay``."""

    config: RelayConfig
    db: Database
    blobs: BlobStore
    broker: BaseBroker
    shops: ShopService
    jobs: JobService
    transfers: TransferService
    streams: StreamService
    reaper: Reaper

    async def start(self) -> None:
        """Start the broker and the reaper."""
        await self.broker.start()
        self.reaper.start()

    async def check(self) -> None:
        """Probe the database and the blob store.

        Raises:
            RelayError: BACKEND_UNAVAILABLE, the database does not answer.
            BlobStoreError: the blob store does not answer.
        """
        await self.db.check()
        await self.blobs.check()

    async def close(self) -> None:
        """End streams, stop the reaper and release every connection."""
        await self.broker.close()
        await self.reaper.stop()
        await self.blobs.close()
        await self.db.dispose()


def open_relay(config: RelayConfig) -> Relay:
    """Build the relay's objects (nothing is contacted yet).

    Raises:
        ValueError: an unsupported database URL or a bad GCS prefix.
    """
    db = Database.open(
        config.resolved_database_url,
        pool_size=config.database_pool_size,
        max_overflow=config.database_max_overflow,
    )
    blobs = open_blob_store(
        gcs_bucket=config.gcs_bucket, gcs_prefix=config.gcs_prefix, data_dir=config.resolved_data_dir
    )
    broker = make_broker(db.url, db.is_postgres)
    shops = ShopService(db, config)
    jobs = JobService(db, blobs, broker, config)
    transfers = TransferService(db, blobs, jobs, config)
    streams = StreamService(db, broker, shops, jobs, config)
    reaper = Reaper(db, blobs, jobs, config)
    return Relay(config, db, blobs, broker, shops, jobs, transfers, streams, reaper)
