"""Ciphertext transfers: resumable, offset-checked uploads and ranged downloads.

The blob store is the authority on committed sizes; the database copy is
refreshed when an upload stream ends. Memory per transfer is one chunk.
No grpc here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from relay_grpc import metrics
from relay_grpc.config import RelayConfig
from relay_grpc.errors import Reason, RelayError, state_error
from relay_grpc.jobs import JobService, blob_key
from relay_grpc.store import crud, hot
from relay_grpc.store.blobs import BlobStore, OffsetMismatchError
from relay_grpc.store.db import Database
from relay_grpc.views import JobState

log = logging.getLogger(__name__)


T = TypeVar("T")


async def idle_limited(
    items: AsyncIterator[T], seconds: float, progress: Callable[[T], bool] = lambda item: True
) -> AsyncIterator[T]:
    """``items``, raising RelayError UPLOAD_IDLE when ``seconds`` pass without progress.

    Only items for which ``progress(item)`` is true restart the clock: a client
    sending empty messages is idle all the same.
    """
    iterator = aiter(items)
    deadline = time.monotonic() + seconds
    while True:
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0.0)):  # no task per message
                item = await anext(iterator)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise RelayError(
                Reason.UPLOAD_IDLE, f"upload stream idle for {seconds:.0f} s; resume with GetUploadOffset"
            ) from None
        if progress(item):
            deadline = time.monotonic() + seconds
        yield item


class Upload:
    """One UploadFile stream: append chunks at the running offset, then ``close``."""

    def __init__(
        self, service: TransferService, job_id: str, file_index: int, size: int, offset: int, expires_at: float
    ) -> None:
        self._service = service
        self.job_id = job_id
        self.file_index = file_index
        self.size = size
        self.offset = offset
        self.start_offset = offset
        self.expires_at = expires_at
        self._key = blob_key(job_id, file_index)
        self._checked = time.monotonic()  # begin_upload just checked the state
        self._short = False

    async def append(self, data: bytes) -> None:
        """Commit one chunk.

        A chunk smaller than one sealed record (``min_chunk_bytes``) must be the
        stream's last, unless it completes the file; such short tails are
        counted per file (``max_short_chunks``) so one upload cannot be cut
        into thousands of stored parts.

        Raises:
            RelayError: INVALID_REQUEST (a chunk after a short one), LIMIT_EXCEEDED (short chunks).
            RelayError: LIMIT_EXCEEDED (chunk over ``max_chunk_bytes``), PAST_DECLARED_SIZE,
                OFFSET_MISMATCH (another stream moved the offset), or the job left
                UPLOADING (``state_error``).
        """
        max_chunk = self._service.config.max_chunk_bytes
        if len(data) > max_chunk:
            raise RelayError(
                Reason.LIMIT_EXCEEDED,
                f"chunk of {len(data)} bytes is over max_chunk_bytes {max_chunk}",
                limit="max_chunk_bytes",
                max=max_chunk,
            )
        if self.offset + len(data) > self.size:
            raise RelayError(
                Reason.PAST_DECLARED_SIZE,
                f"data passes the declared size {self.size} of file {self.file_index}",
                size=self.size,
            )
        if not data:
            return
        config = self._service.config
        if self._short:
            raise RelayError(
                Reason.INVALID_REQUEST,
                f"a chunk under {config.min_chunk_bytes} bytes must be the last of its stream",
                field="data",
            )
        if len(data) < config.min_chunk_bytes and self.offset + len(data) != self.size:
            self._short = True
            if not self._service.note_short_chunk(self.job_id, self.file_index):
                raise RelayError(
                    Reason.LIMIT_EXCEEDED,
                    f"more than {config.max_short_chunks} short chunks for file "
                    f"{self.file_index}; send chunks of at least {config.min_chunk_bytes} bytes",
                    limit="max_short_chunks",
                    max=config.max_short_chunks,
                )
        now = time.monotonic()
        if now - self._checked >= 1.0:  # a cancel or expiry stops the stream within a second
            await self._service.require_uploading(self.job_id)
            self._checked = now
        try:
            self.offset = await self._service.blobs.append(self._key, self.offset, data)
            metrics.UPLOADED_BYTES.inc(len(data))
        except OffsetMismatchError as exc:
            self.offset = exc.committed
            raise RelayError(
                Reason.OFFSET_MISMATCH,
                f"offset mismatch: committed offset is {exc.committed}",
                committed_offset=exc.committed,
            ) from None

    async def close(self) -> tuple[int, bool]:
        """Record the committed size; returns (committed offset, complete)."""
        if self.offset != self.start_offset:
            await self._service.record_progress(self.job_id, self.file_index, self.offset, self.expires_at)
        return self.offset, self.offset == self.size


class TransferService:
    """Uploads for customers and downloads for shops."""

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
        self._short_chunks: dict[tuple[str, int], int] = {}

    def note_short_chunk(self, job_id: str, file_index: int) -> bool:
        """Count one short chunk of a file (in this process); False past ``max_short_chunks``."""
        if len(self._short_chunks) > 100_000:
            self._short_chunks.clear()  # a bound on this map's memory: counts start again
        key = (job_id, file_index)
        self._short_chunks[key] = self._short_chunks.get(key, 0) + 1
        return self._short_chunks[key] <= self.config.max_short_chunks

    async def begin_upload(self, job_id: str, token: str | None, file_index: int, offset: int) -> Upload:
        """Start an upload at ``offset``, which must equal the committed size.

        Raises:
            RelayError: TOKEN_INVALID (not this job's customer token), OFFSET_MISMATCH
                (offset != committed size), NO_SUCH_FILE, or the job is not UPLOADING.
        """
        state, size, expires_at = await self.jobs.authorize_file(job_id, token, file_index)
        if state != JobState.UPLOADING.value:
            raise state_error(state, "upload")
        committed = await self.blobs.size(blob_key(job_id, file_index))
        if offset != committed:
            raise RelayError(
                Reason.OFFSET_MISMATCH,
                f"offset {offset} is not the committed size: committed offset is {committed}",
                committed_offset=committed,
            )
        return Upload(self, job_id, file_index, size, offset, expires_at)

    async def upload_offset(self, job_id: str, token: str | None, file_index: int) -> tuple[int, int]:
        """(committed offset, declared size) of one file.

        Raises:
            RelayError: TOKEN_INVALID (not this job's customer token), NO_SUCH_FILE.
        """
        state, size, _ = await self.jobs.authorize_file(job_id, token, file_index)
        if JobState(state).terminal:
            return 0, size
        return await self.blobs.size(blob_key(job_id, file_index)), size

    async def require_uploading(self, job_id: str) -> None:
        """Raises RelayError (``state_error``) unless the job is still UPLOADING."""
        state: str | None
        if self.db.pool is not None:
            async with self.db.pool.connection() as raw:
                state = await hot.job_state(raw, job_id=job_id)
        else:
            async with self.db.connect() as conn:
                state = await crud.job_state(conn, job_id=job_id)
        if state is None:
            raise RelayError(Reason.TOKEN_INVALID, "missing or invalid customer token for this job")
        if state != JobState.UPLOADING.value:
            raise state_error(state, "upload")

    async def record_progress(
        self, job_id: str, file_index: int, committed: int, expires_at: float | None = None
    ) -> None:
        """Store the committed size and keep an active upload from being reaped: its
        expiry moves to a full upload window from now, unless at least 90% of that is
        still left (``expires_at``: the expiry the caller saw; None: unknown). One
        statement in the usual case of an upload soon after CreateJob."""
        now = self.clock()
        window = self.config.upload_retention_seconds
        if expires_at is not None and expires_at - now >= 0.9 * window:
            if self.db.pool is not None:
                async with self.db.pool.connection() as raw:
                    await hot.set_committed_size(raw, job_id=job_id, file_index=file_index, committed=committed)
                return
            if self.db.sqlite is not None:
                await self.db.sqlite.set_committed_size(job_id=job_id, file_index=file_index, committed=committed)
                return
            async with self.db.single_write() as conn:
                await crud.set_committed_size_core(conn, job_id=job_id, file_index=file_index, committed=committed)
            return
        async with self.db.begin() as conn:
            await crud.set_committed_size_core(conn, job_id=job_id, file_index=file_index, committed=committed)
            await crud.extend_upload(conn, job_id=job_id, uploading=JobState.UPLOADING.value, expires_at=now + window)

    async def download(
        self, shop_id: str, job_id: str, file_index: int, offset: int
    ) -> AsyncIterator[tuple[int, bytes]]:
        """Stream (offset, data) chunks of at most ``download_chunk_bytes`` from ``offset``.

        Raises:
            RelayError: JOB_NOT_FOUND (unknown or another shop's job), NO_SUCH_FILE,
                OFFSET_OUT_OF_RANGE, or the job is not queued, received or printing.
        """
        job = await self.jobs.shop_job(shop_id, job_id)
        if not JobState(job.state).active:
            raise state_error(job.state, "download")
        size = await self._declared_size(job_id, file_index)
        if offset < 0 or offset > size:
            raise RelayError(
                Reason.OFFSET_OUT_OF_RANGE, f"offset {offset} is beyond the file of {size} bytes", size=size
            )
        return self._stream(blob_key(job_id, file_index), offset, size)

    async def _stream(self, key: str, offset: int, size: int) -> AsyncIterator[tuple[int, bytes]]:
        if offset >= size:
            return
        async for chunk in self.blobs.iter_chunks(key, offset, self.config.download_chunk_bytes):
            yield offset, chunk
            offset += len(chunk)
            metrics.DOWNLOADED_BYTES.inc(len(chunk))

    async def _declared_size(self, job_id: str, file_index: int) -> int:
        async with self.db.session() as session:
            f = await crud.get_job_file(session, job_id=job_id, file_index=file_index)
        if f is None:
            raise RelayError(Reason.NO_SUCH_FILE, f"no file {file_index} in this job", file_index=file_index)
        return f.size
