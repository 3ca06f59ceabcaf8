"""The hot paths' psycopg pool: reuse, a cancelled statement's connection is never
reused, a lost server's connections are dropped and the next call reconnects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import psycopg
import pytest

from relay_grpc.store.pgpool import PgPool


def test_pool_reuses_and_drops_broken_connections(make_pg_database: Callable[[], str]) -> None:
    url = make_pg_database()

    async def scenario() -> None:
        pool = PgPool(url, 2)
        async with pool.connection() as conn:
            first_pid = conn.info.backend_pid
            await conn.execute("SELECT 1", prepare=True)
        async with pool.connection() as conn:
            assert conn.info.backend_pid == first_pid  # kept and reused

        # A refused statement leaves the connection usable and pooled.
        with pytest.raises(psycopg.errors.UndefinedTable):
            async with pool.connection() as conn:
                await conn.execute("SELECT * FROM no_such_table")
        async with pool.connection() as conn:
            assert conn.info.backend_pid == first_pid

        # A call cancelled inside a statement: that connection is closed, not reused.
        async def slow() -> None:
            async with pool.connection() as conn:
                await conn.execute("SELECT pg_sleep(5)")

        task = asyncio.create_task(slow())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with pool.connection() as conn:
            assert conn.info.backend_pid != first_pid
            second_pid = conn.info.backend_pid
            assert (await (await conn.execute("SELECT 2 AS n")).fetchone()).n == 2

        # The server ends the connection (as a restart would): the call fails with
        # OperationalError, the pool drops it and the next call reconnects.
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
            await admin.execute("SELECT pg_terminate_backend(%s)", (second_pid,))
        with pytest.raises(psycopg.OperationalError):
            async with pool.connection() as conn:
                await conn.execute("SELECT 1")
        async with pool.connection() as conn:
            assert conn.info.backend_pid not in (first_pid, second_pid)
            await conn.execute("SELECT 1")
        await pool.close()

    asyncio.run(scenario())
