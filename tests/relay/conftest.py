"""Relay test fixtures: ``backend_relay`` runs a test on both backends."""

from __future__ import annotations

import pytest

from tests.fixtures.relay import RelayHandle


@pytest.fixture(params=["sqlite-local", "postgres-gcs"])
def backend_relay(request: pytest.FixtureRequest) -> RelayHandle:
    """The embedded relay (SQLite + folder) and the production shape (PostgreSQL + GCS)."""
    return request.getfixturevalue("relay" if request.param == "sqlite-local" else "relay_pg")
