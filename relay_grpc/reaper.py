"""The reaper: expires jobs past their window, deletes orphan blobs, prunes the
old event log. Runs on every relay; PostgreSQL's SKIP LOCKED shares the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import col

from relay_grpc import metrics
from relay_grpc.config import RelayConfig
from relay_grpc.jobs import JobService, blob_prefix
from relay_grpc.store import crud
from relay_grpc.store.blobs import BlobStore
from relay_grpc.store.db import Database
from relay_grpc.store.models import EnrollmentCode, Job, JobEvent, JobFile
from relay_grpc.views import LIVE_STATES, TERMINAL_STATES

log = logging.getLogger(__name__)


class Reaper:
    """Background clean-up; ``run_once`` does one full pass (tests call it directly)."""

    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        jobs: JobService,
        config: RelayConfig,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.jobs = jobs
        self.config = config
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run passes every ``reaper_interval_seconds`` until ``stop``."""
        self._task = asyncio.create_task(self._loop(), name="reaper")

    async def stop(self) -> None:
        """Stop the background loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reaper pass failed")
            await asyncio.sleep(self.config.reaper_interval_seconds)

    async def run_once(self) -> dict[str, int]:
        """Expire due jobs, delete orphan blobs, prune the old log; returns counts."""
        expired = 0
        while True:
            batch = await self.jobs.expire_due(limit=100)
            expired += len(batch)
            if len(batch) < 100:
                break
        orphans = await self.delete_orphans()
        pruned = await self.prune()
        await self.refresh_metrics()
        return {"expired": expired, "orphans": orphans, "pruned": pruned}

    async def delete_orphans(self) -> int:
        """Delete blobs whose job is gone or terminal (crash leftovers, late appends)."""
        keys = await self.blobs.list_keys("jobs/")
        job_ids = {k.split("/")[1] for k in keys if k.count("/") >= 2}
        if not job_ids:
            return 0
        async with self.db.session() as session:
            live = await crud.live_job_ids(session, job_ids=job_ids, live_states=[s.value for s in LIVE_STATES])
        removed = 0
        for job_id in job_ids - live:
            removed += await self.blobs.delete_prefix(blob_prefix(job_id))
        if removed:
            log.info("deleted %d orphan blobs", removed)
        return removed

    async def prune(self) -> int:
        """Drop terminal jobs (with files and events) and spent codes older than
        ``event_retention_seconds``."""
        cutoff = self.clock() - self.config.event_retention_seconds
        async with self.db.transaction() as session:
            old = sa.select(col(Job.id)).where(
                col(Job.state).in_([s.value for s in TERMINAL_STATES]), col(Job.updated_at) < cutoff
            )
            await session.exec(sa.delete(JobEvent).where(col(JobEvent.job_id).in_(old)))
            await session.exec(sa.delete(JobFile).where(col(JobFile.job_id).in_(old)))
            result = await session.exec(sa.delete(Job).where(col(Job.id).in_(old)))
            await session.exec(
                sa.delete(EnrollmentCode).where(
                    sa.or_(col(EnrollmentCode.used_at) < cutoff, col(EnrollmentCode.expires_at) < cutoff)
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def refresh_metrics(self) -> None:
        """Update the job and storage gauges from the database."""
        async with self.db.session() as session:
            metrics.set_job_counts(await crud.count_jobs_by_state(session))
            live = [state.value for state in LIVE_STATES]
            metrics.STORED_BYTES.set(await crud.stored_bytes(session, live_states=live))
