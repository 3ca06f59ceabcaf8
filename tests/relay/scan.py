"""Look inside a relay's stores from the outside: every database row and every
blob object (local folder or GCS bucket)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.fixtures.relay import RelayHandle


def db_rows(relay: RelayHandle) -> list[tuple[str, tuple]]:
    """(table, row) for every row of every table of the relay's database."""
    if relay.database_url:
        import psycopg

        out = []
        with psycopg.connect(relay.database_url) as conn:
            tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            for table in tables:
                out += [(table, tuple(row)) for row in conn.execute(f'SELECT * FROM "{table}"')]
        return out
    conn = sqlite3.connect(relay.data_dir / "relay.db")
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [(t, tuple(row)) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"')]
    finally:
        conn.close()


def job_row(relay: RelayHandle, job_id: str) -> dict:
    """The jobs row of ``job_id`` as a dict."""
    if relay.database_url:
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(relay.database_url, row_factory=dict_row) as conn:
            return dict(conn.execute("SELECT * FROM jobs WHERE id = %s", (job_id,)).fetchone())
    conn = sqlite3.connect(relay.data_dir / "relay.db")
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
    finally:
        conn.close()


def blob_objects(relay: RelayHandle) -> dict[str, bytes]:
    """Every stored object (GCS) or file (local folder, including hidden parts): name -> bytes."""
    if relay.gcs_bucket:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        client = storage.Client(project="test", credentials=AnonymousCredentials())
        return {b.name: b.download_as_bytes() for b in client.list_blobs(relay.gcs_bucket)}
    root = Path(relay.data_dir)
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name not in ("relay.db", "relay.db-wal", "relay.db-shm")
    }


def contains(haystack: object, needle: bytes) -> bool:
    """True if ``needle`` appears in a cell (bytes or text)."""
    if isinstance(haystack, bytes | bytearray | memoryview):
        return needle in bytes(haystack)
    if isinstance(haystack, str):
        return needle.decode("latin-1") in haystack or needle.hex() in haystack
    return False
