"""The relay's database: async SQLAlchemy engine from a URL, sessions, health.

PostgreSQL (``postgresql://`` or ``postgresql+psycopg://``, psycopg 3) in
production; SQLite through aiosqlite as the embedded default. On SQLite, writes
are serialised in-process (one writer at a time is all SQLite allows anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from relay_grpc.errors import Reason, RelayError
from relay_grpc.store.pgpool import PgPool
from relay_grpc.store.sqlite_hot import SqliteHot

log = logging.getLogger(__name__)

DEFAULT_POOL_SIZE = 10


def normalize_url(url: str) -> str:
    """Rewrite plain URLs to the async drivers the relay uses.

    ``postgres://`` / ``postgresql://`` -> ``postgresql+psycopg://``;
    ``sqlite://`` -> ``sqlite+aiosqlite://``.

    Raises:
        ValueError: an unsupported database scheme.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("database URL must look like scheme://...")
    base = scheme.split("+", 1)[0]
    if base in ("postgres", "postgresql"):
        return "postgresql+psycopg://" + rest
    if base == "sqlite":
        return "sqlite+aiosqlite://" + rest
    raise ValueError(f"unsupported database scheme {scheme!r} (use postgresql:// or sqlite://)")


def sync_url(url: str) -> str:
    """The same database with a synchronous driver (for Alembic)."""
    url = normalize_url(url)
    if url.startswith("sqlite+aiosqlite://"):
        return "sqlite://" + url.removeprefix("sqlite+aiosqlite://")
    return url  # psycopg 3 is both sync and async


def is_postgres_url(url: str) -> bool:
    """True for a PostgreSQL URL."""
    return normalize_url(url).startswith("postgresql")


def _sqlite_path(url: str) -> Path | None:
    rest = normalize_url(url).removeprefix("sqlite+aiosqlite://")
    if rest.startswith("/") and rest not in ("/", "/:memory:"):
        return Path(rest[1:].split("?", 1)[0])
    return None


class Database:
    """An async engine plus session helpers. Create with ``Database.open(url)``."""

    def __init__(self, engine: AsyncEngine, *, is_postgres: bool, connections: int = 8) -> None:
        self.engine = engine
        self.is_postgres = is_postgres
        self.url = engine.url.render_as_string(hide_password=False)
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        # Core reads on PostgreSQL run in autocommit: no BEGIN and no ROLLBACK round trip.
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT") if is_postgres else engine
        self._write_lock = asyncio.Lock()
        # Bulk reads (stream set-up, token checks, re-syncs) take a slot first, so a
        # burst of thousands of kiosks queues here instead of timing out in the pool;
        # half the pool stays free for RPC writes and the stream ticker.
        self.slots = asyncio.Semaphore(max(1, connections // 2))
        # PostgreSQL: plain psycopg connections for the hot statements (store/hot.py).
        self.pool: PgPool | None = None
        # SQLite file: the hot statements in one thread hop each (store/sqlite_hot.py).
        self.sqlite: SqliteHot | None = None

    @classmethod
    def open(cls, url: str, *, pool_size: int | None = None, max_overflow: int | None = None) -> Database:
        """Build the engine (nothing is contacted until first use).

        Pool size and overflow (PostgreSQL): the arguments (``RelayConfig``'s
        ``database_pool_size`` / ``database_max_overflow``), else 10 and twice the
        pool size (also for a negative overflow).

        Raises:
            ValueError: an unsupported URL.
        """
        url = normalize_url(url)
        if url.startswith("sqlite"):
            path = _sqlite_path(url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(url, connect_args={"timeout": 30})
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            db = cls(engine, is_postgres=False)
            if path is not None:
                db.sqlite = SqliteHot(path, db._write_lock)
            return db
        pool_size = max(pool_size or DEFAULT_POOL_SIZE, 1)
        if max_overflow is None or max_overflow < 0:
            max_overflow = pool_size * 2
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            # No ping per checkout (a round trip each time): a connection found dead
            # fails its call with UNAVAILABLE and SQLAlchemy then invalidates the pool.
            pool_pre_ping=False,
            pool_recycle=1800,
        )
        db = cls(engine, is_postgres=True, connections=pool_size + max_overflow)
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        db.pool = PgPool(conninfo, pool_size)
        return db

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; closed (rolled back) at the end, loaded objects stay usable."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session committed when the block ends without an exception."""
        if self.is_postgres:
            async with self._sessions() as session, session.begin():
                yield session
            return
        async with self._write_lock, self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A plain connection for Core reads (no ORM session): the hot paths' reads; each
        statement sees the latest commits (autocommit on PostgreSQL)."""
        async with self._reader.connect() as conn:
            yield conn

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction committed when the block ends without an
        exception, for Core statements (no ORM unit of work): the hot paths' writes."""
        if self.is_postgres:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def single_write(self) -> AsyncIterator[AsyncConnection]:
        """A connection for ONE writing statement, atomic by itself: autocommit on
        PostgreSQL (no BEGIN/COMMIT round trips), a transaction under the write lock on
        SQLite."""
        if self.is_postgres:
            async with self._reader.connect() as conn:
                yield conn
            return
        async with self.begin() as conn:
            yield conn

    async def check(self) -> None:
        """Round trip to the database.

        Raises:
            RelayError: BACKEND_UNAVAILABLE, the database does not answer.
        """
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            raise RelayError(Reason.BACKEND_UNAVAILABLE, f"database unavailable: {type(exc).__name__}") from exc

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self.pool is not None:
            await self.pool.close()
        if self.sqlite is not None:
            await self.sqlite.close()
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows (sealed manifests, token hashes) are overwritten, whatever the build's default.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
