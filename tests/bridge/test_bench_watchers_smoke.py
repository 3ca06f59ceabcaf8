"""A smoke run of bench/bridge_watchers.py with tiny numbers (the bench itself is not a test)."""

from __future__ import annotations

import pytest

from bench import bridge_watchers


def test_bench_runs_with_tiny_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bridge_watchers, "PER_REPEAT", 2)
    raw = bridge_watchers.measure(watchers=8, slow=2, repeats=1)
    assert raw["connected"] == 8 and raw["refused"] == 0
    assert len(raw["loaded"]) == 1 and len(raw["loaded"][0][0]) == 2
    assert all(seconds < 5 for seconds in raw["loaded"][0][0] + raw["loaded"][0][1])
    assert raw["threads"][0] < 45
