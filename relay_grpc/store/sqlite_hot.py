"""The statements every job runs, on the embedded SQLite database, in one thread hop each.

Through SQLAlchemy and aiosqlite every statement is its own hop to aiosqlite's
thread plus the SQLAlchemy pipeline; here a whole change (BEGIN IMMEDIATE, the
job, its files, its event, the shop sequence, COMMIT) is one plain ``sqlite3``
function run on one dedicated thread with its own connection (same pragmas as
the engine's). Writes also hold ``Database``'s in-process write lock, so they
queue behind the engine's writes instead of meeting SQLITE_BUSY. Rows come back
as namespaces with the column names (file rows as plain tuples). An in-memory
database (no file to share) keeps the SQLAlchemy paths.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

T = TypeVar("T")

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
)

_CREATE_JOB = """
INSERT INTO jobs (id, shop_id, job_code, customer_token_hash, state, reason, key_fingerprint, file_count,
                  total_bytes, created_at, expires_at, updated_at, last_sequence)
SELECT :id, s.id, :job_code, :customer_token_hash, :state, '', :key_fingerprint, :file_count,
       :total_bytes, :created_at, :expires_at, :updated_at, 1
FROM shops s
WHERE s.slug = :slug AND s.revoked_at IS NULL AND EXISTS (
  SELECT 1 FROM kiosks k WHERE k.shop_id = s.id AND k.revoked_at IS NULL AND k.key_fingerprint = :key_fingerprint)
RETURNING shop_id
"""
_INSERT_FILE = "INSERT INTO job_files (job_id, file_index, size, committed_size) VALUES (?, ?, ?, 0)"
_INSERT_EVENT = (
    "INSERT INTO job_events (shop_id, job_id, shop_sequence, job_sequence, state, reason, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_SUBMIT_JOB = """
UPDATE jobs SET state = :queued, sealed_manifest = :sealed_manifest, submitted_at = :now, updated_at = :now,
                expires_at = :expires_at, last_sequence = 2
WHERE id = :job_id AND state = :uploading AND customer_token_hash = :token_hash AND last_sequence = 1
  AND NOT EXISTS (SELECT 1 FROM job_files WHERE job_id = :job_id AND committed_size <> size)
RETURNING id, shop_id, job_code, state, reason, key_fingerprint, created_at, submitted_at, expires_at,
          updated_at, last_sequence
"""
_BUMP_SHOP = "UPDATE shops SET last_sequence = last_sequence + 1 WHERE id = ? RETURNING last_sequence"
_FILE_SIZES = "SELECT size FROM job_files WHERE job_id = ? ORDER BY file_index"
_CUSTOMER_FILE = """
SELECT j.id, j.state, j.customer_token_hash, j.expires_at, f.size
FROM jobs j LEFT JOIN job_files f ON f.job_id = j.id AND f.file_index = ?
WHERE j.id = ?
"""
_JOB = """
SELECT id, shop_id, job_code, customer_token_hash, state, reason, key_fingerprint, created_at, submitted_at,
       expires_at, updated_at, last_sequence, sealed_manifest, kiosk_statement
FROM jobs WHERE id = ?
"""
_FILES = "SELECT file_index, size, committed_size FROM job_files WHERE job_id = ? ORDER BY file_index"
_SET_COMMITTED = "UPDATE job_files SET committed_size = ? WHERE job_id = ? AND file_index = ?"


def _row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> SimpleNamespace:
    return SimpleNamespace(**{d[0]: v for d, v in zip(cursor.description, row, strict=True)})


class SqliteHot:
    """The hot statements on the SQLite file at ``path`` (see module docstring)."""

    def __init__(self, path: Path, write_lock: asyncio.Lock) -> None:
        self.path = path
        self._write_lock = write_lock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-hot")
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            for pragma in _PRAGMAS:
                conn.execute(pragma)
            self._conn = conn
        return self._conn

    async def _read(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self._call, fn, *args))

    async def _write(self, fn: Callable[..., T], *args: object) -> T:
        async with self._write_lock:
            return await self._read(fn, *args)

    def _call(self, fn: Callable[..., T], *args: object) -> T:
        return fn(self._connection(), *args)

    # ---- the statements ------------------------------------------------------------

    async def create_job(self, *, slug: str, values: dict[str, object], sizes: Sequence[int]) -> str | None:
        """The job, its files and its UPLOADING event in one transaction, if the shop with
        this slug is not revoked and an active kiosk of it has this key; its shop id or None."""
        return await self._write(_create_job, slug, values, list(sizes))

    async def submit_job(
        self,
        *,
        job_id: str,
        token_hash: str,
        sealed_manifest: bytes,
        now: float,
        expires_at: float,
        queued: str,
        uploading: str,
    ) -> SimpleNamespace | None:
        """Queue an UPLOADING job whose files are complete in the database and whose only
        event is its creation, in one transaction: the job row with ``shop_sequence`` and
        ``sizes``, or None when any condition does not hold (the general path decides)."""
        params = {
            "job_id": job_id, "token_hash": token_hash, "sealed_manifest": sealed_manifest, "now": now,
            "expires_at": expires_at, "queued": queued, "uploading": uploading,
        }  # fmt: skip
        return await self._write(_submit_job, params)

    async def customer_file(self, *, job_id: str, file_index: int) -> SimpleNamespace | None:
        """(id, state, customer_token_hash, expires_at, size) of a job and one of its files."""
        return await self._read(_customer_file, job_id, file_index)

    async def job_with_files(self, *, job_id: str) -> tuple[SimpleNamespace, list[tuple[int, int, int]]] | None:
        """The job row and its (file_index, size, committed_size) rows; None for an unknown job."""
        return await self._read(_job_with_files, job_id)

    async def set_committed_size(self, *, job_id: str, file_index: int, committed: int) -> None:
        """Record a file's committed size."""
        await self._write(_set_committed, job_id, file_index, committed)

    async def close(self) -> None:
        """Close the connection and stop the thread."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=False)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _create_job(conn: sqlite3.Connection, slug: str, values: dict[str, object], sizes: list[int]) -> str | None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(_CREATE_JOB, {**values, "slug": slug}).fetchone()
        if row is None:
            conn.execute("ROLLBACK")
            return None
        shop_id, job_id = row[0], values["id"]
        conn.executemany(_INSERT_FILE, [(job_id, i, size) for i, size in enumerate(sizes)])
        conn.execute(_INSERT_EVENT, (shop_id, job_id, None, 1, values["state"], "", values["created_at"]))
        conn.execute("COMMIT")
        return str(shop_id)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _submit_job(conn: sqlite3.Connection, params: dict[str, object]) -> SimpleNamespace | None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        cursor = conn.execute(_SUBMIT_JOB, params)
        raw = cursor.fetchone()
        if raw is None:
            conn.execute("ROLLBACK")
            return None
        job = _row(cursor, raw)
        cursor.close()
        shop_sequence = conn.execute(_BUMP_SHOP, (job.shop_id,)).fetchone()[0]
        conn.execute(
            _INSERT_EVENT,
            (job.shop_id, job.id, shop_sequence, job.last_sequence, job.state, job.reason, params["now"]),
        )
        job.shop_sequence = shop_sequence
        job.sizes = [size for (size,) in conn.execute(_FILE_SIZES, (job.id,))]
        conn.execute("COMMIT")
        return job
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _customer_file(conn: sqlite3.Connection, job_id: str, file_index: int) -> SimpleNamespace | None:
    cursor = conn.execute(_CUSTOMER_FILE, (file_index, job_id))
    raw = cursor.fetchone()
    return None if raw is None else _row(cursor, raw)


def _job_with_files(conn: sqlite3.Connection, job_id: str) -> tuple[SimpleNamespace, list[tuple[int, int, int]]] | None:
    cursor = conn.execute(_JOB, (job_id,))
    raw = cursor.fetchone()
    if raw is None:
        return None
    job = _row(cursor, raw)
    return job, [tuple(r) for r in conn.execute(_FILES, (job_id,))]


def _set_committed(conn: sqlite3.Connection, job_id: str, file_index: int, committed: int) -> None:
    conn.execute(_SET_COMMITTED, (committed, job_id, file_index))
