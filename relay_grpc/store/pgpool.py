"""A small pool of plain psycopg connections for the hot paths on PostgreSQL.

The statements every job runs (create, the upload's check and progress, submit,
a customer's token check) go straight to psycopg: autocommit connections (each
statement is atomic by itself, no BEGIN/COMMIT round trips), server-side
prepared statements, no SQLAlchemy execution pipeline and no per-checkout
isolation-level switching. Everything else keeps the SQLAlchemy engine.

Connections are opened on demand up to ``size`` and kept. One that fails with a
connection error (server restart, network) is dropped with every idle one (they
went with the same server), so the next call reconnects; one left inside a
statement by a cancelled call is closed, never reused.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import pq
from psycopg.rows import namedtuple_row

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10


class PgPool:
    """Up to ``size`` autocommit psycopg connections to ``conninfo``."""

    def __init__(self, conninfo: str, size: int) -> None:
        self.conninfo = conninfo
        self.size = max(1, size)
        self._idle: collections.deque[psycopg.AsyncConnection[Any]] = collections.deque()
        self._open = 0
        self._slots = asyncio.Semaphore(self.size)
        self._closed = False

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, row_factory=namedtuple_row, connect_timeout=CONNECT_TIMEOUT
        )

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection for one or more autocommit statements.

        Raises:
            psycopg.OperationalError: the database cannot be reached.
        """
        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = await self._connect()
                self._open += 1
            reuse = False
            try:
                yield conn
                reuse = True
            except psycopg.OperationalError:
                self._drop_idle()  # a lost server took the idle connections with it
                raise
            except psycopg.Error:
                reuse = True  # a refused statement (constraint, ...) leaves the connection usable
                raise
            finally:
                if reuse and not self._closed and not conn.closed and self._is_idle(conn):
                    self._idle.append(conn)
                else:
                    self._open -= 1
                    await self._close(conn)

    @staticmethod
    def _is_idle(conn: psycopg.AsyncConnection[Any]) -> bool:
        return conn.info.transaction_status == pq.TransactionStatus.IDLE

    def _drop_idle(self) -> None:
        while self._idle:
            conn = self._idle.pop()
            self._open -= 1
            conn.pgconn.finish()  # no round trip to a server that is gone

    @staticmethod
    async def _close(conn: psycopg.AsyncConnection[Any]) -> None:
        try:
            await conn.close()
        except Exception as exc:  # noqa: BLE001 - closing a broken connection may fail too
            log.debug("closing a pooled connection failed: %s", type(exc).__name__)

    async def close(self) -> None:
        """Close every idle connection (connections in use close when returned)."""
        self._closed = True
        while self._idle:
            conn = self._idle.pop()
            self._open -= 1
            await self._close(conn)
