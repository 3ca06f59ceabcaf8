"""Job life cycle and rules: create, submit, cancel, progress, complete, reject,
expire. Every change writes the event log in the same transaction and wakes
the streams after commit; terminal states delete blobs and the sealed manifest
at once. No grpc here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any, NamedTuple, NoReturn

from cloudtab_rpc import rejects
from relay_grpc import tokens
from relay_grpc.config import RelayConfig
from relay_grpc.errors import Reason, RelayError, state_error
from relay_grpc.events import CHANNEL, Broker, Notification, append_event, record_event, record_events
from relay_grpc.ratelimit import RateLimiter
from relay_grpc.shops import SLUG_RE
from relay_grpc.store import crud, hot
from relay_grpc.store.blobs import BlobStore
from relay_grpc.store.db import Database
from relay_grpc.store.models import Job
from relay_grpc.views import ACTIVE_STATES, FileView, JobState, JobView

log = logging.getLogger(__name__)

EXPIRED_REASON = "not completed within the retention window"
REVOKED_REASON = "This shop no longer takes jobs through this service. Your files were deleted unprinted."


def blob_key(job_id: str, file_index: int) -> str:
    """Blob store key of one file of a job."""
    return f"jobs/{job_id}/{file_index}"


def blob_prefix(job_id: str) -> str:
    """Blob store prefix of every file of a job."""
    return f"jobs/{job_id}/"


class FileRow(NamedTuple):
    """One file of a job as the hot paths read it."""

    file_index: int
    size: int
    committed_size: int


def job_view(job: Any, files: Sequence[Any], *, with_manifest: bool) -> JobView:
    """Snapshot of a job (an ORM object, a Core row or a namespace with the same
    names); the manifest only when asked and the job is active."""
    state = JobState(job.state)
    return JobView(
        job_id=job.id,
        job_code=job.job_code,
        state=state,
        reason=job.reason,
        files=tuple(FileView(f.file_index, f.size, f.committed_size) for f in files),
        key_fingerprint=job.key_fingerprint,
        created_at=job.created_at,
        submitted_at=job.submitted_at,
        expires_at=job.expires_at,
        updated_at=job.updated_at,
        sealed_manifest=job.sealed_manifest if with_manifest and state.active else None,
        kiosk_statement=getattr(job, "kiosk_statement", None) or b"",
    )


class JobService:
    """Customer and shop operations on jobs."""

    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        broker: Broker,
        config: RelayConfig,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.broker = broker
        self.config = config
        self.clock = clock
        self.create_limiter = RateLimiter(config.create_job_rate_per_minute)

    # ---- customer ----------------------------------------------------------------

    async def create_job(
        self, *, shop_slug: str, file_sizes: Sequence[int], key_fingerprint: bytes, peer: str
    ) -> tuple[JobView, str, float]:
        """Create an UPLOADING job; returns (job, customer token, upload expiry time).

        Raises:
            RelayError: INVALID_REQUEST (bad slug, no files, a negative size, a
                malformed fingerprint), SHOP_NOT_FOUND (unknown, revoked or unenrolled
                shop), KEY_CHANGED (not the shop's current key), LIMIT_EXCEEDED,
                RATE_LIMITED.
        """
        c = self.config
        if not SLUG_RE.match(shop_slug):
            raise RelayError(Reason.INVALID_REQUEST, "malformed shop slug", field="shop_slug")
        if not file_sizes:
            raise RelayError(Reason.INVALID_REQUEST, "a job needs at least one file", field="file_sizes")
        if any(size <= 0 for size in file_sizes):
            # Even an empty file seals to one 16-byte record: 0 cannot be ciphertext.
            raise RelayError(Reason.INVALID_REQUEST, "file sizes must be positive", field="file_sizes")
        if len(key_fingerprint) != 32:
            raise RelayError(
                Reason.INVALID_REQUEST, "key_fingerprint must be 32 bytes (SHA-256)", field="key_fingerprint"
            )
        if len(file_sizes) > c.max_files_per_job:
            raise RelayError(
                Reason.LIMIT_EXCEEDED,
                f"at most {c.max_files_per_job} files per job",
                limit="max_files_per_job",
                max=c.max_files_per_job,
            )
        if max(file_sizes) > c.max_file_bytes:
            raise RelayError(
                Reason.LIMIT_EXCEEDED,
                f"a file may be at most {c.max_file_bytes} bytes",
                limit="max_file_bytes",
                max=c.max_file_bytes,
            )
        if sum(file_sizes) > c.max_job_bytes:
            raise RelayError(
                Reason.LIMIT_EXCEEDED,
                f"a job may be at most {c.max_job_bytes} bytes",
                limit="max_job_bytes",
                max=c.max_job_bytes,
            )
        if not self.create_limiter.allow(peer):
            raise RelayError(Reason.RATE_LIMITED, "creating jobs too fast; retry later")
        now = self.clock()
        token = tokens.new_token()
        job_id = tokens.new_id()
        values: dict[str, object] = {
            "id": job_id,
            "job_code": tokens.new_job_code(),
            "customer_token_hash": tokens.hash_token(token),
            "state": JobState.UPLOADING.value,
            "reason": "",
            "key_fingerprint": key_fingerprint,
            "file_count": len(file_sizes),
            "total_bytes": sum(file_sizes),
            "created_at": now,
            "expires_at": now + c.upload_retention_seconds,
            "updated_at": now,
            "last_sequence": 1,
        }
        if self.db.pool is not None:  # one statement: job, files and event (nobody to notify yet)
            async with self.db.pool.connection() as raw:
                shop_id = await hot.create_job(raw, slug=shop_slug, values=values, sizes=file_sizes)
            if shop_id is None:
                async with self.db.connect() as conn:
                    await self._refuse_shop(conn, shop_slug)
            note = Notification(str(shop_id), job_id, None, 1)
        elif self.db.sqlite is not None:  # one transaction in one hop to the SQLite thread
            shop_id = await self.db.sqlite.create_job(slug=shop_slug, values=values, sizes=file_sizes)
            if shop_id is None:
                async with self.db.connect() as conn:
                    await self._refuse_shop(conn, shop_slug)
            note = Notification(str(shop_id), job_id, None, 1)
        else:  # four statements, one transaction: the shop check is part of the INSERT
            async with self.db.begin() as conn:
                shop_id = await crud.insert_job_for_shop(
                    conn, slug=shop_slug, key_fingerprint=key_fingerprint, values=values
                )
                if shop_id is None:
                    await self._refuse_shop(conn, shop_slug)
                await crud.insert_files(conn, job_id=job_id, sizes=file_sizes)
                note = await append_event(
                    conn, self.broker, shop_id=shop_id, job_id=job_id, job_sequence=1,
                    state=JobState.UPLOADING.value, reason="", shop_visible=False, now=now,
                )  # fmt: skip
        job = SimpleNamespace(shop_id=shop_id, sealed_manifest=None, submitted_at=None, **values)
        files = [FileRow(i, size, 0) for i, size in enumerate(file_sizes)]
        self._publish(note, job, files, now)
        log.info("job created: job=%s shop=%s files=%d bytes=%d", job_id, shop_slug, len(files), job.total_bytes)
        return job_view(job, files, with_manifest=False), token, job.expires_at

    @staticmethod
    async def _refuse_shop(conn: Any, slug: str) -> NoReturn:
        """Why a job cannot be created for this shop.

        Raises:
            RelayError: SHOP_NOT_FOUND (unknown, revoked or unenrolled), KEY_CHANGED.
        """
        shop = await crud.shop_key_row(conn, slug=slug)
        if shop is None or shop.revoked_at is not None or shop.key_fingerprint is None:
            raise RelayError(Reason.SHOP_NOT_FOUND, f"no shop {slug!r}")
        raise RelayError(Reason.KEY_CHANGED, "key_fingerprint is not the shop's current key; reload the shop")

    async def authorize_customer(self, job_id: str, token: str | None) -> tuple[Any, list[Any]]:
        """The job's row and its file rows (one query) if ``token`` is its customer token.

        Raises:
            RelayError TOKEN_INVALID: no token, a malformed one, another job's, or no such job.
        """
        if not token or not tokens.plausible_token(token) or not job_id or len(job_id) > 64:
            raise RelayError(Reason.TOKEN_INVALID, "missing or invalid customer token for this job")
        found: tuple[Any, list[Any]] | None
        if self.db.pool is not None:
            async with self.db.pool.connection() as raw:
                row = await hot.job_with_files(raw, job_id=job_id)
            found = None if row is None else (row, [FileRow(*f) for f in row.files])
        elif self.db.sqlite is not None:
            pair = await self.db.sqlite.job_with_files(job_id=job_id)
            found = None if pair is None else (pair[0], [FileRow(*f) for f in pair[1]])
        else:
            async with self.db.connect() as conn:
                found = await crud.job_with_files(conn, job_id=job_id)
        if found is None or not tokens.token_matches(token, found[0].customer_token_hash):
            raise RelayError(Reason.TOKEN_INVALID, "missing or invalid customer token for this job")
        return found

    async def authorize_file(self, job_id: str, token: str | None, file_index: int) -> tuple[str, int, float]:
        """(state, declared size, expiry time) of one file of the job if ``token`` is its
        customer token, in one query.

        Raises:
            RelayError: TOKEN_INVALID (see ``authorize_customer``), NO_SUCH_FILE.
        """
        if not token or not tokens.plausible_token(token) or not job_id or len(job_id) > 64:
            raise RelayError(Reason.TOKEN_INVALID, "missing or invalid customer token for this job")
        if self.db.pool is not None:
            async with self.db.pool.connection() as raw:
                row = await hot.customer_file(raw, job_id=job_id, file_index=file_index)
        elif self.db.sqlite is not None:
            row = await self.db.sqlite.customer_file(job_id=job_id, file_index=file_index)
        else:
            async with self.db.connect() as conn:
                row = await crud.customer_file(conn, job_id=job_id, file_index=file_index)
        if row is None or not tokens.token_matches(token, row.customer_token_hash):
            raise RelayError(Reason.TOKEN_INVALID, "missing or invalid customer token for this job")
        if row.size is None:
            raise RelayError(Reason.NO_SUCH_FILE, f"no file {file_index} in this job", file_index=file_index)
        return row.state, int(row.size), float(row.expires_at)

    async def customer_job(self, job_id: str, token: str | None) -> JobView:
        """The job without its manifest.

        Raises:
            RelayError TOKEN_INVALID: see ``authorize_customer``.
        """
        job, files = await self.authorize_customer(job_id, token)
        return job_view(job, files, with_manifest=False)

    async def submit(self, job_id: str, token: str | None, sealed_manifest: bytes) -> JobView:
        """Queue a job whose files are all complete, with its sealed manifest.

        Raises:
            RelayError TOKEN_INVALID: see ``authorize_customer``.
            RelayError INVALID_REQUEST: empty or oversized manifest.
            RelayError: FILES_INCOMPLETE, or the job is not UPLOADING (see ``state_error``).
        """
        if not token or not tokens.plausible_token(token) or not job_id or len(job_id) > 64:
            raise RelayError(Reason.TOKEN_INVALID, "missing or invalid customer token for this job")
        if not sealed_manifest:
            raise RelayError(Reason.INVALID_REQUEST, "sealed_manifest is empty", field="sealed_manifest")
        if len(sealed_manifest) > self.config.max_manifest_bytes:
            raise RelayError(
                Reason.INVALID_REQUEST,
                f"sealed_manifest is over {self.config.max_manifest_bytes} bytes",
                field="sealed_manifest",
            )
        now = self.clock()
        if self.db.pool is not None or self.db.sqlite is not None:
            fast = await self._submit_fast(job_id, token, sealed_manifest, now)
            if fast is not None:
                return fast
        # One transaction for the check and the change (and the errors).
        async with self.db.begin() as conn:
            found = await crud.job_with_files(conn, job_id=job_id, for_update=self.db.is_postgres)
            if found is None or not tokens.token_matches(token, found[0].customer_token_hash):
                raise RelayError(Reason.TOKEN_INVALID, "missing or invalid customer token for this job")
            row, file_rows = found
            if row.state != JobState.UPLOADING.value:
                raise state_error(row.state, "submit")
            # The database's committed size is written only after the blob store has the
            # bytes; where it is short (an upload stream cut before it recorded), the blob
            # store, the authority, decides.
            short = [f for f in file_rows if f.committed_size != f.size]
            committed = [await self.blobs.size(blob_key(job_id, f.file_index)) for f in short]
            incomplete = [f.file_index for f, n in zip(short, committed, strict=True) if n != f.size]
            if incomplete:
                raise RelayError(
                    Reason.FILES_INCOMPLETE,
                    f"files not complete: {incomplete}",
                    file_indexes=",".join(map(str, incomplete)),
                )
            if short:
                await crud.mark_files_complete_core(conn, job_id=job_id)
            values: dict[str, object] = {
                "state": JobState.QUEUED.value,
                "sealed_manifest": sealed_manifest,
                "submitted_at": now,
                "updated_at": now,
                "expires_at": now + self.config.retention_seconds,
                "last_sequence": row.last_sequence + 1,
            }
            await crud.update_job(conn, job_id=job_id, values=values)
            note = await append_event(
                conn, self.broker, shop_id=row.shop_id, job_id=job_id, job_sequence=row.last_sequence + 1,
                state=JobState.QUEUED.value, reason=row.reason, shop_visible=True, now=now,
            )  # fmt: skip
        job = SimpleNamespace(**{**row._asdict(), **values})
        files = [SimpleNamespace(file_index=f.file_index, size=f.size, committed_size=f.size) for f in file_rows]
        self._publish(note, job, files, now)
        log.info("job submitted: job=%s", job_id)
        return job_view(job, files, with_manifest=False)

    async def _submit_fast(self, job_id: str, token: str, sealed_manifest: bytes, now: float) -> JobView | None:
        """The usual submit in one statement (PostgreSQL) or one transaction in one hop
        (SQLite); None when anything is unusual (bad token, other state, files short in
        the database): the general path decides."""
        fields: dict[str, Any] = {
            "job_id": job_id, "token_hash": tokens.hash_token(token), "sealed_manifest": sealed_manifest,
            "now": now, "expires_at": now + self.config.retention_seconds, "queued": JobState.QUEUED.value,
            "uploading": JobState.UPLOADING.value,
        }  # fmt: skip
        if self.db.pool is not None:
            self.broker.expect_echo(job_id, 2)
            async with self.db.pool.connection() as raw:
                row = await hot.submit_job(raw, **fields, channel=CHANNEL)
        else:
            assert self.db.sqlite is not None
            row = await self.db.sqlite.submit_job(**fields)
        if row is None:
            return None
        note = Notification(row.shop_id, job_id, int(row.shop_sequence), int(row.last_sequence))
        data = row._asdict() if hasattr(row, "_asdict") else dict(vars(row))
        job = SimpleNamespace(**{**data, "sealed_manifest": sealed_manifest})
        files = [FileRow(i, n, n) for i, n in enumerate(row.sizes)]
        self._publish(note, job, files, now)
        log.info("job submitted: job=%s", job_id)
        return job_view(job, files, with_manifest=False)

    async def cancel(self, job_id: str, token: str | None) -> JobView:
        """Withdraw a job; its ciphertext and manifest are deleted at once.

        Raises:
            RelayError TOKEN_INVALID: see ``authorize_customer``.
            RelayError: JOB_TERMINAL or JOB_EXPIRED.
        """
        await self.authorize_customer(job_id, token)
        return await self._finish(job_id, JobState.CANCELLED, reason="", shop_id=None)

    # ---- shop --------------------------------------------------------------------

    async def shop_job(self, shop_id: str, job_id: str) -> Job:
        """The job if it belongs to the shop.

        Raises:
            RelayError JOB_NOT_FOUND: unknown job or another shop's job.
        """
        if not job_id or len(job_id) > 64:
            raise RelayError(Reason.JOB_NOT_FOUND, "no such job")
        async with self.db.session() as session:
            job = await crud.get_job(session, job_id=job_id)
        if job is None or job.shop_id != shop_id:
            raise RelayError(Reason.JOB_NOT_FOUND, "no such job")
        return job

    async def shop_view(self, shop_id: str, job_id: str) -> JobView:
        """The shop's job with its manifest while active.

        Raises:
            RelayError JOB_NOT_FOUND: unknown job or another shop's job.
        """
        await self.shop_job(shop_id, job_id)
        return await self.view(job_id, with_manifest=True)

    async def update(self, shop_id: str, job_id: str, state: JobState, statement: bytes = b"") -> JobView:
        """Report progress: RECEIVED or PRINTING with the kiosk's serialized statement.

        Repeating the current state is a no-op unless the statement differs (a new
        wait reason, say): then it is a new event with the same state.

        Raises:
            RelayError INVALID_REQUEST: any other target state.
            RelayError JOB_NOT_FOUND: unknown job or another shop's job.
            RelayError: the job is terminal, still uploading, or already further (``state_error``).
        """
        if state not in (JobState.RECEIVED, JobState.PRINTING):
            raise RelayError(Reason.INVALID_REQUEST, "state must be RECEIVED or PRINTING", field="state")
        await self.shop_job(shop_id, job_id)
        order = [JobState.QUEUED, JobState.RECEIVED, JobState.PRINTING]
        now = self.clock()
        note: Notification | None = None
        async with self.db.transaction() as session:
            job = await self._locked(session, job_id)
            current = JobState(job.state)
            if current not in order:
                raise state_error(current.value, f"report {state.value}")
            if order.index(state) < order.index(current):
                raise state_error(current.value, f"report {state.value}")
            files = (await crud.get_job_files(session, job_ids=[job_id]))[job_id]
            if state != current or statement != (job.kiosk_statement or b""):
                job.state = state.value
                job.kiosk_statement = statement or None
                job.updated_at = now
                note = await record_event(session, self.broker, job=job, shop_visible=True, now=now)
        if note is not None:
            self._publish(note, job, files, now)
        return job_view(job, files, with_manifest=True)

    async def complete(self, shop_id: str, job_id: str, statement: bytes = b"") -> JobView:
        """Mark printed; ciphertext and manifest are deleted at once.

        Raises:
            RelayError JOB_NOT_FOUND: unknown job or another shop's job.
            RelayError: terminal or still uploading (``state_error``).
        """
        await self.shop_job(shop_id, job_id)
        return await self._finish(job_id, JobState.COMPLETED, reason="", shop_id=shop_id, statement=statement)

    async def reject(self, shop_id: str, job_id: str, reason: str, statement: bytes = b"") -> JobView:
        """Decline with a fixed reason code (``cloudtab_rpc.rejects``); deleted at once.

        Raises:
            RelayError REJECT_REASON_UNKNOWN: the reason is not exactly one of the codes.
            RelayError JOB_NOT_FOUND: unknown job or another shop's job.
            RelayError: terminal or still uploading (``state_error``).
        """
        if rejects.parse(reason) is None:
            raise RelayError(Reason.REJECT_REASON_UNKNOWN, "reason must be one of the fixed reject codes")
        await self.shop_job(shop_id, job_id)
        return await self._finish(job_id, JobState.REJECTED, reason=reason, shop_id=shop_id, statement=statement)

    async def expire_due(self, *, limit: int = 100) -> list[str]:
        """Expire jobs whose window has passed (the reaper); returns their ids.

        On PostgreSQL the due rows are claimed with FOR UPDATE SKIP LOCKED, so the
        reapers of several relays share the work and never expire a job twice.
        """
        now = self.clock()
        states = [s.value for s in (JobState.UPLOADING, JobState.QUEUED, JobState.RECEIVED, JobState.PRINTING)]
        async with self.db.transaction() as session:
            ids = await crud.expired_job_ids(
                session, states=states, now=now, limit=limit, skip_locked=self.db.is_postgres
            )
            jobs = await crud.get_jobs(session, job_ids=ids)  # locked by the claim above
            due = [jobs[job_id] for job_id in ids if job_id in jobs]
            notes = await self._end_jobs(session, due, JobState.EXPIRED, EXPIRED_REASON, now)
            files = await crud.get_job_files(session, job_ids=[n.job_id for n, _ in notes])
        await self._publish_ended(notes, files, now)
        if notes:
            log.info("expired %d jobs", len(notes))
        return [n.job_id for n, _ in notes]

    async def end_shop_jobs(self, shop_id: str) -> list[str]:
        """Reject every unfinished job of a revoked shop with :data:`REVOKED_REASON`.

        Customers watching are told at once instead of waiting for expiry; the
        ciphertext and manifests are deleted. Returns the ids of the jobs ended.
        """
        now = self.clock()
        states = [s.value for s in (JobState.UPLOADING, *ACTIVE_STATES)]
        async with self.db.transaction() as session:
            ids = await crud.shop_job_ids(session, shop_id=shop_id, states=states)
            jobs = await crud.get_jobs(session, job_ids=ids, for_update=self.db.is_postgres)
            unfinished = [jobs[job_id] for job_id in ids if job_id in jobs and jobs[job_id].state in states]
            notes = await self._end_jobs(session, unfinished, JobState.REJECTED, REVOKED_REASON, now)
            files = await crud.get_job_files(session, job_ids=[n.job_id for n, _ in notes])
        await self._publish_ended(notes, files, now)
        if notes:
            log.info("rejected %d jobs of revoked shop %s", len(notes), shop_id)
        return [n.job_id for n, _ in notes]

    # ---- shared ------------------------------------------------------------------

    async def _end_jobs(
        self, session: Any, jobs: Sequence[Job], state: JobState, reason: str, now: float
    ) -> list[tuple[Notification, Job]]:
        """Move locked jobs to a final state the relay itself decides (expiry, revocation),
        dropping their manifests; their events written together (``record_events``)."""
        changes: list[tuple[Job, bool]] = []
        for job in jobs:
            changes.append((job, job.state != JobState.UPLOADING.value))
            job.state = state.value
            job.reason = reason
            job.sealed_manifest = None
            job.kiosk_statement = None
            job.updated_at = now
        notes = await record_events(session, self.broker, jobs=changes, now=now)
        return list(zip(notes, jobs, strict=True))

    async def _publish_ended(self, notes: list[tuple[Notification, Job]], files: dict[str, Any], now: float) -> None:
        """After commit: tell the watchers and delete the ciphertext of each ended job."""
        for note, job in notes:
            self._publish(note, job, files[job.id], now)
            await self.delete_blobs(note.job_id)

    async def view(self, job_id: str, *, with_manifest: bool) -> JobView:
        """Current snapshot of a job.

        Raises:
            RelayError JOB_NOT_FOUND: no such job.
        """
        async with self.db.session() as session:
            job = await crud.get_job(session, job_id=job_id)
            if job is None:
                raise RelayError(Reason.JOB_NOT_FOUND, "no such job")
            files = (await crud.get_job_files(session, job_ids=[job_id]))[job_id]
        return job_view(job, files, with_manifest=with_manifest)

    async def _locked(self, session, job_id: str) -> Job:  # type: ignore[no-untyped-def]
        job = await crud.get_job(session, job_id=job_id, for_update=self.db.is_postgres)
        if job is None:
            raise RelayError(Reason.JOB_NOT_FOUND, "no such job")
        return job

    async def _finish(
        self, job_id: str, state: JobState, *, reason: str, shop_id: str | None, statement: bytes = b""
    ) -> JobView:
        now = self.clock()
        async with self.db.transaction() as session:
            job = await self._locked(session, job_id)
            current = JobState(job.state)
            if current.terminal or (shop_id is not None and current == JobState.UPLOADING):
                raise state_error(current.value, f"mark it {state.value}")
            job.state = state.value
            job.reason = reason
            job.sealed_manifest = None
            job.kiosk_statement = statement or None
            job.updated_at = now
            note = await record_event(
                session, self.broker, job=job, shop_visible=current != JobState.UPLOADING, now=now
            )
            files = (await crud.get_job_files(session, job_ids=[job_id]))[job_id]
        self._publish(note, job, files, now)
        await self.delete_blobs(job_id)
        log.info("job %s: job=%s", state.value, job_id)
        return job_view(job, files, with_manifest=False)

    def _publish(self, note: Notification, job: Any, files: Sequence[Any], now: float) -> None:
        """Hand the committed event to this relay's streams (other relays read the log)."""
        if not self.broker.listening(note):
            return
        self.broker.dispatch(
            note,
            shop_view=job_view(job, files, with_manifest=True),
            job_view=job_view(job, files, with_manifest=False),
            event_time=now,
        )

    async def delete_blobs(self, job_id: str) -> None:
        """Delete a job's ciphertext; failures are left to the reaper's orphan sweep."""
        try:
            await self.blobs.delete_prefix(blob_prefix(job_id))
        except Exception as exc:  # noqa: BLE001 - the reaper retries
            log.warning("blob delete failed for job=%s (%s); the reaper will retry", job_id, type(exc).__name__)
