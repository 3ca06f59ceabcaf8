"""Keyword-only data access functions. They take a session and never commit:
callers group writes into one transaction (``Database.transaction()``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from relay_grpc.store.models import EnrollmentCode, Job, JobEvent, JobFile, Kiosk, Shop

# ---- shops ---------------------------------------------------------------------


async def get_shop(session: AsyncSession, *, shop_id: str) -> Shop | None:
    """The shop with this id, or None."""
    return await session.get(Shop, shop_id)


async def get_shop_by_slug(session: AsyncSession, *, slug: str) -> Shop | None:
    """The shop with this slug (revoked or not), or None."""
    result = await session.exec(select(Shop).where(Shop.slug == slug))
    return result.first()


async def get_shop_by_token_hash(session: AsyncSession, *, token_hash: str) -> Shop | None:
    """The shop whose current token hashes to ``token_hash``, or None."""
    result = await session.exec(select(Shop).where(Shop.token_hash == token_hash))
    return result.first()


async def list_shops(session: AsyncSession) -> Sequence[Shop]:
    """Every shop, oldest first."""
    result = await session.exec(select(Shop).order_by(col(Shop.created_at), col(Shop.slug)))
    return result.all()


async def slug_taken(session: AsyncSession, *, slug: str) -> bool:
    """True if a shop (even a revoked one) has this slug."""
    return await get_shop_by_slug(session, slug=slug) is not None


async def shop_stream_states(session: AsyncSession, *, shop_ids: Iterable[str]) -> dict[str, tuple[str | None, int]]:
    """(token hash or None when revoked, last sequence) of each of these shops, in one query."""
    ids = list(set(shop_ids))
    if not ids:
        return {}
    result = await session.exec(
        select(Shop.id, Shop.token_hash, Shop.revoked_at, Shop.last_sequence).where(col(Shop.id).in_(ids))
    )
    return {
        shop_id: (None if revoked is not None else token, int(seq or 0))
        for shop_id, token, revoked, seq in result.all()
    }


async def shop_sequence_bounds(session: AsyncSession, *, shop_id: str) -> tuple[int, int | None] | None:
    """(the shop's last sequence, the oldest shop sequence still in the log), in one
    query; None for an unknown shop."""
    oldest = (
        sa.select(sa.func.min(col(JobEvent.shop_sequence))).where(col(JobEvent.shop_id) == shop_id).scalar_subquery()
    )
    result = await session.exec(  # type: ignore[call-overload]
        sa.select(col(Shop.last_sequence), oldest).where(col(Shop.id) == shop_id)
    )
    row = result.first()
    if row is None:
        return None
    return int(row[0] or 0), (None if row[1] is None else int(row[1]))


async def next_shop_sequence(session: AsyncSession, *, shop_id: str, count: int = 1) -> int:
    """Bump the shop's event sequence by ``count`` and return the new last one (the
    caller's are the ``count`` up to it); holds the shop row lock until commit, so
    sequence order equals commit order."""
    stmt = (
        sa.update(Shop)
        .where(col(Shop.id) == shop_id)
        .values(last_sequence=col(Shop.last_sequence) + count)
        .returning(col(Shop.last_sequence))
        .execution_options(synchronize_session=False)
    )
    return int((await session.exec(stmt)).scalar_one())


async def set_shops_seen(session: AsyncSession, *, shop_ids: Iterable[str], seen_at: float | None) -> None:
    """Set ``last_seen_at`` of many shops in one UPDATE (None: no kiosk connected)."""
    ids = list(set(shop_ids))
    if ids:
        await session.exec(sa.update(Shop).where(col(Shop.id).in_(ids)).values(last_seen_at=seen_at))


# ---- enrollment codes ----------------------------------------------------------


async def get_enrollment_code(
    session: AsyncSession, *, code_hash: str, for_update: bool = False
) -> EnrollmentCode | None:
    """The enrollment code with this hash, or None."""
    stmt = select(EnrollmentCode).where(EnrollmentCode.code_hash == code_hash)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


async def invalidate_enrollment_codes(session: AsyncSession, *, shop_id: str, now: float) -> None:
    """Mark every unused code of the shop as used (a new code or a revoke replaces them)."""
    await session.exec(
        sa.update(EnrollmentCode)
        .where(col(EnrollmentCode.shop_id) == shop_id, col(EnrollmentCode.used_at).is_(None))
        .values(used_at=now)
    )


# ---- jobs ----------------------------------------------------------------------


async def get_job(session: AsyncSession, *, job_id: str, for_update: bool = False) -> Job | None:
    """The job with this id, or None; ``for_update`` locks the row (PostgreSQL)."""
    stmt = select(Job).where(Job.id == job_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


async def get_jobs(session: AsyncSession, *, job_ids: Iterable[str], for_update: bool = False) -> dict[str, Job]:
    """The jobs with these ids, by id; ``for_update`` locks the rows (PostgreSQL), in id order."""
    ids = list(set(job_ids))
    if not ids:
        return {}
    stmt = select(Job).where(col(Job.id).in_(ids))
    if for_update:
        stmt = stmt.order_by(col(Job.id)).with_for_update()
    result = await session.exec(stmt)
    return {job.id: job for job in result.all()}


async def get_job_files(session: AsyncSession, *, job_ids: Iterable[str]) -> dict[str, list[JobFile]]:
    """The files of these jobs, by job id, in index order."""
    ids = list(set(job_ids))
    out: dict[str, list[JobFile]] = {i: [] for i in ids}
    if not ids:
        return out
    result = await session.exec(
        select(JobFile).where(col(JobFile.job_id).in_(ids)).order_by(col(JobFile.job_id), col(JobFile.file_index))
    )
    for f in result.all():
        out[f.job_id].append(f)
    return out


async def get_job_file(session: AsyncSession, *, job_id: str, file_index: int) -> JobFile | None:
    """One file of a job, or None."""
    return await session.get(JobFile, (job_id, file_index))


async def set_committed_size(session: AsyncSession, *, job_id: str, file_index: int, committed: int) -> None:
    """Record a file's committed size (the blob store is the authority)."""
    await session.exec(
        sa.update(JobFile)
        .where(col(JobFile.job_id) == job_id, col(JobFile.file_index) == file_index)
        .values(committed_size=committed)
    )


async def mark_files_complete(session: AsyncSession, *, job_id: str) -> None:
    """Set every file's committed size to its declared size (checked by the caller)."""
    await session.exec(sa.update(JobFile).where(col(JobFile.job_id) == job_id).values(committed_size=col(JobFile.size)))


async def expired_job_ids(
    session: AsyncSession, *, states: Sequence[str], now: float, limit: int, skip_locked: bool
) -> list[str]:
    """Ids of jobs in ``states`` whose ``expires_at`` has passed; on PostgreSQL the rows
    are locked with SKIP LOCKED so concurrent reapers take different jobs."""
    stmt = (
        select(Job.id)
        .where(col(Job.state).in_(list(states)), col(Job.expires_at) <= now)
        .order_by(col(Job.expires_at))
        .limit(limit)
    )
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.exec(stmt)).all())


async def shop_job_ids(session: AsyncSession, *, shop_id: str, states: Sequence[str]) -> list[str]:
    """Ids of the shop's jobs in ``states``, oldest first."""
    stmt = select(Job.id).where(col(Job.shop_id) == shop_id, col(Job.state).in_(list(states)))
    return list((await session.exec(stmt.order_by(col(Job.created_at)))).all())


async def live_job_ids(session: AsyncSession, *, job_ids: Iterable[str], live_states: Sequence[str]) -> set[str]:
    """Which of ``job_ids`` exist in one of ``live_states``."""
    ids = list(set(job_ids))
    if not ids:
        return set()
    result = await session.exec(select(Job.id).where(col(Job.id).in_(ids), col(Job.state).in_(list(live_states))))
    return set(result.all())


async def count_jobs_by_state(session: AsyncSession) -> dict[str, int]:
    """Number of jobs per state."""
    result = await session.exec(  # type: ignore[call-overload]
        sa.select(col(Job.state), sa.func.count()).group_by(col(Job.state))
    )
    return {str(state): int(n) for state, n in result.all()}


async def stored_bytes(session: AsyncSession, *, live_states: Sequence[str]) -> int:
    """Committed ciphertext bytes of the jobs in ``live_states`` (the DB's view; a
    terminal job's ciphertext is deleted at once, so it counts for nothing)."""
    total = sa.func.coalesce(sa.func.sum(JobFile.committed_size), 0)
    stmt = sa.select(total).join(Job, col(Job.id) == col(JobFile.job_id)).where(col(Job.state).in_(list(live_states)))
    result = await session.exec(stmt)  # type: ignore[call-overload]
    return int(result.scalar_one())


# ---- events --------------------------------------------------------------------


async def shop_events_after(session: AsyncSession, *, shop_id: str, after: int, limit: int) -> Sequence[JobEvent]:
    """Shop-visible events with ``shop_sequence > after``, in order."""
    result = await session.exec(
        select(JobEvent)
        .where(JobEvent.shop_id == shop_id, col(JobEvent.shop_sequence) > after)
        .order_by(col(JobEvent.shop_sequence))
        .limit(limit)
    )
    return result.all()


async def job_events_after(session: AsyncSession, *, job_id: str, after: int, limit: int) -> Sequence[JobEvent]:
    """Events of one job with ``job_sequence > after``, in order."""
    result = await session.exec(
        select(JobEvent)
        .where(JobEvent.job_id == job_id, col(JobEvent.job_sequence) > after)
        .order_by(col(JobEvent.job_sequence))
        .limit(limit)
    )
    return result.all()


async def latest_shop_events_of_jobs(
    session: AsyncSession, *, shop_id: str, job_states: Sequence[str], upto: int
) -> Sequence[JobEvent]:
    """For each job of the shop now in ``job_states``, its latest shop event with
    ``shop_sequence <= upto``; ordered by sequence (the replay of SubscribeJobs)."""
    latest = (
        sa.select(col(JobEvent.job_id), sa.func.max(col(JobEvent.shop_sequence)).label("seq"))
        .join(Job, col(Job.id) == col(JobEvent.job_id))
        .where(
            col(JobEvent.shop_id) == shop_id,
            col(JobEvent.shop_sequence) <= upto,
            col(Job.state).in_(list(job_states)),
        )
        .group_by(col(JobEvent.job_id))
        .subquery()
    )
    stmt = (
        select(JobEvent)
        .join(latest, sa.and_(col(JobEvent.job_id) == latest.c.job_id, col(JobEvent.shop_sequence) == latest.c.seq))
        .order_by(col(JobEvent.shop_sequence))
    )
    return (await session.exec(stmt)).all()


# ---- hot paths (SQLAlchemy Core on a plain connection) ----------------------------
# One statement per step and no ORM unit of work: these run for every job.

JOBS: sa.Table = Job.__table__  # type: ignore[attr-defined]
FILES: sa.Table = JobFile.__table__  # type: ignore[attr-defined]
EVENTS: sa.Table = JobEvent.__table__  # type: ignore[attr-defined]
SHOPS: sa.Table = Shop.__table__  # type: ignore[attr-defined]


async def insert_job_for_shop(
    conn: AsyncConnection, *, slug: str, key_fingerprint: bytes, values: dict[str, object]
) -> str | None:
    """INSERT the job for the shop with this slug if that shop is enrolled, not revoked
    and its key has this fingerprint, in one statement; its shop id, or None."""
    names = list(values)
    source = sa.select(
        *[sa.literal(values[name], type_=JOBS.c[name].type).label(name) for name in names], SHOPS.c.id
    ).where(SHOPS.c.slug == slug, SHOPS.c.revoked_at.is_(None), _active_kiosk_key(key_fingerprint))
    stmt = JOBS.insert().from_select([*names, "shop_id"], source).returning(JOBS.c.shop_id)
    return (await conn.execute(stmt)).scalar()


def _active_kiosk_key(key_fingerprint: bytes) -> Any:
    """An active kiosk of the shop (SHOPS row) has this key (several kiosks per shop)."""
    kiosks = Kiosk.__table__  # type: ignore[attr-defined]
    return sa.exists().where(
        kiosks.c.shop_id == SHOPS.c.id, kiosks.c.revoked_at.is_(None), kiosks.c.key_fingerprint == key_fingerprint
    )


async def shop_key_row(conn: AsyncConnection, *, slug: str) -> Any:
    """(revoked_at, key_fingerprint) of the shop with this slug, or None."""
    stmt = sa.select(SHOPS.c.revoked_at, SHOPS.c.key_fingerprint).where(SHOPS.c.slug == slug)
    return (await conn.execute(stmt)).first()


async def insert_files(conn: AsyncConnection, *, job_id: str, sizes: Sequence[int]) -> None:
    """The declared files of a new job (committed 0)."""
    await conn.execute(
        FILES.insert(),
        [{"job_id": job_id, "file_index": i, "size": s, "committed_size": 0} for i, s in enumerate(sizes)],
    )


async def insert_event(conn: AsyncConnection, *, values: dict[str, object]) -> None:
    """Append one row to the event log."""
    await conn.execute(EVENTS.insert().values(**values))


async def bump_shop_sequence(conn: AsyncConnection, *, shop_id: str) -> int:
    """``next_shop_sequence`` on a plain connection (holds the shop row lock until commit)."""
    stmt = (
        sa.update(SHOPS)
        .where(SHOPS.c.id == shop_id)
        .values(last_sequence=SHOPS.c.last_sequence + 1)
        .returning(SHOPS.c.last_sequence)
    )
    return int((await conn.execute(stmt)).scalar_one())


async def job_with_files(
    conn: AsyncConnection, *, job_id: str, for_update: bool = False
) -> tuple[Any, list[Any]] | None:
    """The job row and its file rows (file_index, size, committed_size) in one query;
    ``for_update`` locks the job row (PostgreSQL)."""
    stmt = (
        sa.select(JOBS, FILES.c.file_index, FILES.c.size, FILES.c.committed_size)
        .select_from(JOBS.outerjoin(FILES, FILES.c.job_id == JOBS.c.id))
        .where(JOBS.c.id == job_id)
        .order_by(FILES.c.file_index)
    )
    if for_update:
        stmt = stmt.with_for_update(of=JOBS)
    rows = (await conn.execute(stmt)).all()
    if not rows:
        return None
    return rows[0], [r for r in rows if r.file_index is not None]


async def customer_file(conn: AsyncConnection, *, job_id: str, file_index: int) -> Any:
    """(id, state, customer_token_hash, expires_at, size) of a job and one of its files
    (size None when the job has no such file), in one query; None for an unknown job."""
    stmt = (
        sa.select(JOBS.c.id, JOBS.c.state, JOBS.c.customer_token_hash, JOBS.c.expires_at, FILES.c.size)
        .select_from(JOBS.outerjoin(FILES, sa.and_(FILES.c.job_id == JOBS.c.id, FILES.c.file_index == file_index)))
        .where(JOBS.c.id == job_id)
    )
    return (await conn.execute(stmt)).first()


async def update_job(conn: AsyncConnection, *, job_id: str, values: dict[str, object]) -> None:
    """Set columns of one job."""
    await conn.execute(sa.update(JOBS).where(JOBS.c.id == job_id).values(**values))


async def set_committed_size_core(conn: AsyncConnection, *, job_id: str, file_index: int, committed: int) -> None:
    """``set_committed_size`` on a plain connection."""
    await conn.execute(
        sa.update(FILES)
        .where(FILES.c.job_id == job_id, FILES.c.file_index == file_index)
        .values(committed_size=committed)
    )


async def extend_upload(conn: AsyncConnection, *, job_id: str, uploading: str, expires_at: float) -> None:
    """Push an uploading job's expiry to at least ``expires_at``."""
    await conn.execute(
        sa.update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.state == uploading, JOBS.c.expires_at < expires_at)
        .values(expires_at=expires_at)
    )


async def job_state(conn: AsyncConnection, *, job_id: str) -> str | None:
    """The state of a job, or None."""
    return (await conn.execute(sa.select(JOBS.c.state).where(JOBS.c.id == job_id))).scalar()


async def mark_files_complete_core(conn: AsyncConnection, *, job_id: str) -> None:
    """``mark_files_complete`` on a plain connection."""
    await conn.execute(sa.update(FILES).where(FILES.c.job_id == job_id).values(committed_size=FILES.c.size))


# PostgreSQL runs the per-job statements as prepared psycopg statements: store/hot.py.
