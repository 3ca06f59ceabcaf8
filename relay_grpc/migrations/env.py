"""Alembic environment: SQLModel.metadata of relay_grpc.store.models, sync drivers.

The URL comes from ``config.attributes["url"]`` (set by relay_grpc.store.migrate),
else the ini's ``sqlalchemy.url``, else ``CLOUDTAB_DATABASE_URL``.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import relay_grpc.store.models  # noqa: F401 - registers the tables
from relay_grpc.store.db import sync_url

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    url = url or os.environ.get("CLOUDTAB_DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL for migrations")
    return sync_url(url)


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _url()
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection, url)
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        _run(conn, url)
    engine.dispose()


# Several relays may start at once on one PostgreSQL: one migrates, the others wait.
ADVISORY_LOCK_ID = 0x636C6F75  # "clou"


def _run(connection: sa.Connection, url: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": ADVISORY_LOCK_ID})
        connection.commit()
    try:
        _migrate(connection, url)
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": ADVISORY_LOCK_ID})
            connection.commit()


def _migrate(connection: sa.Connection, url: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
