"""Alembic migrations of the relay database (run by ``cloudtab-relay db upgrade``)."""
