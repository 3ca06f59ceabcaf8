"""The benchmark report cannot mislead: computed "met", summaries, provenance, partial runs."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench import report


@pytest.mark.parametrize(
    ("target", "value", "ratio", "met"),
    [
        ("<= 5", 4.9, None, True),
        ("<= 5", 5.1, None, False),
        (">= 0.5x", 100.0, 0.4, False),
        (">= 0.5x", 100.0, 0.6, True),
        ("<= 5 and <= 3x", 4.0, 3.5, False),
        ("<= 5 and <= 3x", 4.0, 2.5, True),
        (">= 10,000", 10_000.0, None, True),
        ("< 500 ms", 499.0, None, True),
        (None, 1.0, None, None),
        ("<= 3x", 1.0, None, None),
    ],
)
def test_met_is_computed_from_the_target(
    target: str | None, value: float, ratio: float | None, met: bool | None
) -> None:
    assert report.check_target(target, value, ratio) is met


def test_a_target_outside_the_grammar_is_refused() -> None:
    with pytest.raises(ValueError):
        report.check_target("flat in file size", 1.0, None)
    row = report.finish({"figure": "f", "value": 1.0, "target": "all"}, bench="b", when="d", where="m", at="c")
    assert row["met"] is None and "not checkable" in row["target"]


def test_samples_give_median_min_max_and_count() -> None:
    row = report.finish(
        {
            "figure": "cpu",
            "unit": "ms",
            "samples": [9.0, 5.0, 7.0, 6.0, 8.0],
            "baseline_samples": [2.0, 3.0, 1.0],
            "target": "<= 3x",
        },
        bench="b",
        when="d",
        where="m",
        at="c",
    )
    assert (row["value"], row["min"], row["max"], row["n"]) == (7.0, 5.0, 9.0, 5)
    assert row["baseline"] == 2.0 and row["ratio"] == 3.5 and row["met"] is False


def test_p99_over_fewer_than_100_samples_is_called_max() -> None:
    few = report.finish({"figure": "latency p99", "value": 20.0, "n": 15}, bench="b", when="d", where="m", at="c")
    many = report.finish({"figure": "latency p99", "value": 20.0, "n": 300}, bench="b", when="d", where="m", at="c")
    assert few["figure"] == "latency max"
    assert many["figure"] == "latency p99"


def test_partial_run_keeps_other_rows_and_their_dates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, data = tmp_path / "performance.md", tmp_path / "performance.json"
    monkeypatch.setattr(bench_main, "OUT", out)
    monkeypatch.setattr(bench_main, "DATA", data)
    monkeypatch.setattr(bench_main, "ROOT", tmp_path)
    old = report.finish(
        {"figure": "old figure", "value": 1.0, "target": "<= 2"},
        bench="other_bench",
        when="2026-01-01 00:00 UTC",
        where="old machine",
        at="abc1234",
    )
    report.save(data, [old])
    fake = types.ModuleType("bench.fake_bench")
    fake.run = lambda: [{"figure": "new figure", "unit": "ms", "samples": [3.0] * 5, "target": "<= 2"}]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bench.fake_bench", fake)
    assert bench_main.main(["fake_bench"]) == 0
    rows = {r["figure"]: r for r in json.loads(data.read_text())["rows"]}
    assert rows["old figure"] == old
    assert rows["new figure"]["date"] != old["date"] and rows["new figure"]["met"] is False
    text = out.read_text()
    assert "| old figure | 1 |" in text and "2026-01-01 00:00 UTC" in text and "old machine" in text
    assert "## Missed targets\n\n- new figure: 3 ms (target <= 2" in text
