"""The statements every job runs, on PostgreSQL, as plain prepared psycopg statements.

Each is one round trip and atomic by itself on an autocommit connection from
``PgPool``: data-modifying CTEs put a whole change (the job, its files, its
event, the shop sequence and the cross-relay NOTIFY) in one statement. Rows come
back as named tuples. SQLite, and anything unusual, takes the SQLAlchemy paths
in ``crud``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

Conn = psycopg.AsyncConnection[Any]

# The job, its files and its UPLOADING event, if the shop with this slug is not revoked
# and an active kiosk of it has this key. A creation notifies no one: the shop does not see it
# and no customer can watch a job before it exists.
CREATE_JOB = """
WITH j AS (
  INSERT INTO jobs (id, shop_id, job_code, customer_token_hash, state, reason, key_fingerprint, file_count,
                    total_bytes, created_at, expires_at, updated_at, last_sequence)
  SELECT %(id)s, s.id, %(job_code)s, %(customer_token_hash)s, %(state)s, '', %(key_fingerprint)s,
         %(file_count)s, %(total_bytes)s, %(created_at)s, %(expires_at)s, %(updated_at)s, 1
  FROM shops s
  WHERE s.slug = %(slug)s AND s.revoked_at IS NULL AND EXISTS (
    SELECT 1 FROM kiosks k WHERE k.shop_id = s.id AND k.revoked_at IS NULL AND k.key_fingerprint = %(key_fingerprint)s)
  RETURNING id, shop_id
), f AS (
  INSERT INTO job_files (job_id, file_index, size, committed_size)
  SELECT j.id, t.ord - 1, t.size, 0
  FROM j, unnest(CAST(%(sizes)s AS bigint[])) WITH ORDINALITY AS t(size, ord)
), e AS (
  INSERT INTO job_events (shop_id, job_id, shop_sequence, job_sequence, state, reason, created_at)
  SELECT j.shop_id, j.id, NULL, 1, %(state)s, '', %(created_at)s FROM j
)
SELECT j.shop_id FROM j
"""

# Submit of an UPLOADING job whose files are all complete in the database and whose
# only event is its creation (so the new event is job sequence 2).
SUBMIT_JOB = """
WITH j AS (
  UPDATE jobs SET state = %(queued)s, sealed_manifest = %(sealed_manifest)s, submitted_at = %(now)s,
                  updated_at = %(now)s, expires_at = %(expires_at)s, last_sequence = 2
  WHERE id = %(job_id)s AND state = %(uploading)s AND customer_token_hash = %(token_hash)s AND last_sequence = 1
    AND NOT EXISTS (SELECT 1 FROM job_files WHERE job_id = %(job_id)s AND committed_size <> size)
  RETURNING id, shop_id, job_code, state, reason, key_fingerprint, created_at, submitted_at, expires_at,
            updated_at, last_sequence
), s AS (
  UPDATE shops SET last_sequence = last_sequence + 1 WHERE id = (SELECT shop_id FROM j) RETURNING last_sequence
), e AS (
  INSERT INTO job_events (shop_id, job_id, shop_sequence, job_sequence, state, reason, created_at)
  SELECT j.shop_id, j.id, s.last_sequence, j.last_sequence, j.state, j.reason, %(now)s FROM j, s
)
SELECT j.*, s.last_sequence AS shop_sequence,
       ARRAY(SELECT size FROM job_files WHERE job_id = j.id ORDER BY file_index) AS sizes,
       pg_notify(%(channel)s, json_build_object(
         'shop_id', j.shop_id, 'job_id', j.id, 'shop_sequence', s.last_sequence,
         'job_sequence', j.last_sequence)::text) AS notified
FROM j, s
"""

CUSTOMER_FILE = """
SELECT j.id, j.state, j.customer_token_hash, j.expires_at, f.size
FROM jobs j LEFT JOIN job_files f ON f.job_id = j.id AND f.file_index = %(file_index)s
WHERE j.id = %(job_id)s
"""

JOB_WITH_FILES = """
SELECT j.id, j.shop_id, j.job_code, j.customer_token_hash, j.state, j.reason, j.key_fingerprint, j.created_at,
       j.submitted_at, j.expires_at, j.updated_at, j.last_sequence, j.sealed_manifest, j.kiosk_statement,
       ARRAY(SELECT ARRAY[f.file_index, f.size, f.committed_size]
             FROM job_files f WHERE f.job_id = j.id ORDER BY f.file_index) AS files
FROM jobs j WHERE j.id = %(job_id)s
"""

SET_COMMITTED = """
UPDATE job_files SET committed_size = %(committed)s WHERE job_id = %(job_id)s AND file_index = %(file_index)s
"""

JOB_STATE = "SELECT state FROM jobs WHERE id = %(job_id)s"


async def _one(conn: Conn, query: str, params: dict[str, object]) -> Any:
    cursor = await conn.execute(query, params, prepare=True)  # type: ignore[arg-type]
    return await cursor.fetchone()


async def create_job(conn: Conn, *, slug: str, values: dict[str, object], sizes: Sequence[int]) -> str | None:
    """See ``CREATE_JOB``: the new job's shop id, or None (no such shop, or no kiosk with that key)."""
    row = await _one(conn, CREATE_JOB, {**values, "slug": slug, "sizes": list(sizes)})
    return None if row is None else str(row.shop_id)


async def submit_job(
    conn: Conn,
    *,
    job_id: str,
    token_hash: str,
    sealed_manifest: bytes,
    now: float,
    expires_at: float,
    queued: str,
    uploading: str,
    channel: str,
) -> Any:
    """See ``SUBMIT_JOB``: the updated job row with ``shop_sequence`` and the file
    ``sizes``, or None when any condition does not hold (the caller then takes the
    general path, which says which). The token's hash is compared in SQL: a hash, so
    no timing leak about the token."""
    params = {
        "job_id": job_id, "token_hash": token_hash, "sealed_manifest": sealed_manifest, "now": now,
        "expires_at": expires_at, "queued": queued, "uploading": uploading, "channel": channel,
    }  # fmt: skip
    return await _one(conn, SUBMIT_JOB, params)


async def customer_file(conn: Conn, *, job_id: str, file_index: int) -> Any:
    """(id, state, customer_token_hash, expires_at, size) of a job and one of its files
    (size None when the job has no such file); None for an unknown job."""
    return await _one(conn, CUSTOMER_FILE, {"job_id": job_id, "file_index": file_index})


async def job_with_files(conn: Conn, *, job_id: str) -> Any:
    """The job row with ``files``: [file_index, size, committed_size] per file in index
    order; None for an unknown job."""
    return await _one(conn, JOB_WITH_FILES, {"job_id": job_id})


async def set_committed_size(conn: Conn, *, job_id: str, file_index: int, committed: int) -> None:
    """Record a file's committed size (the blob store is the authority)."""
    await conn.execute(
        SET_COMMITTED,
        {"job_id": job_id, "file_index": file_index, "committed": committed},
        prepare=True,  # type: ignore[arg-type]
    )


async def job_state(conn: Conn, *, job_id: str) -> str | None:
    """The state of a job, or None."""
    row = await _one(conn, JOB_STATE, {"job_id": job_id})
    return None if row is None else str(row.state)
