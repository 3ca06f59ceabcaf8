"""Run the Alembic migrations programmatically (``cloudtab-relay db upgrade``)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    """An Alembic Config for the packaged migrations and ``url``."""
    from alembic.config import Config

    cfg = Config(str(PACKAGE_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Create or upgrade the schema of the database at ``url`` to ``revision``.

    Raises:
        sqlalchemy.exc.OperationalError: the database cannot be reached.
    """
    from alembic import command

    command.upgrade(alembic_config(url), revision)
    log.debug("database schema at %s", revision)


def current_revision(url: str) -> str | None:
    """The revision the database is at (None for an empty database)."""
    import sqlalchemy as sa
    from alembic.runtime.migration import MigrationContext

    from relay_grpc.store.db import sync_url

    engine = sa.create_engine(sync_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
