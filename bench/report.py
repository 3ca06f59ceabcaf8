"""The benchmark report: rows with their provenance, summaries, targets and "met".

No ``run()`` here, so ``python -m bench`` skips this module.

A bench row is a dict with ``figure``, ``unit``, ``target`` and either
``samples`` (one value per repeat: the report shows their median, min, max and
count) or ``value`` with ``n``, the number of samples it summarises (a count, a
percentile over ``n`` latencies, or 1 for a single run). ``baseline`` or
``baseline_samples`` likewise; ``ratio`` defaults to value / baseline. A figure
naming "p99" over fewer than 100 samples is renamed to "max" (it is the max).

``target`` is ``None`` or clauses joined by " and ", each ``OP NUMBER`` (compared
with the value) or ``OP NUMBERx`` (compared with the ratio), OP one of
<=, >=, <, >, =; words after the number (units) are ignored. "met" is computed
from it, never written by hand.
"""

from __future__ import annotations

import datetime
import json
import operator
import os
import platform
import re
import statistics
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MIN_REPEATS = 5
MIN_PERCENTILE_SAMPLES = 100

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "=": operator.eq,
    "==": operator.eq,
}
_CLAUSE = re.compile(r"^\s*(<=|>=|==|<|>|=)\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?)\s*(x\b)?")


def machine() -> str:
    """Cores, CPU model and Python of this machine, short."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def commit() -> str:
    """Short commit of this tree, "+dirty" when code differs from it (docs/ aside)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":!docs"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def check_target(target: str | None, value: float | None, ratio: float | None) -> bool | None:
    """True/False when ``target`` is met/missed; None with no target or no value.

    Raises:
        ValueError: a target that is not in the grammar of the module docstring.
    """
    if not target:
        return None
    met = True
    for clause in str(target).split(" and "):
        match = _CLAUSE.match(clause)
        if match is None:
            raise ValueError(f"target {target!r} is not 'OP NUMBER[x]' clauses")
        op, number, on_ratio = match.groups()
        subject = ratio if on_ratio else value
        if subject is None:
            return None
        met = met and _OPS[op](float(subject), float(number.replace(",", "")))
    return met


def _summary(
    samples: list[float] | None, value: Any, n: Any
) -> tuple[float | None, float | None, float | None, int | None]:
    if samples:
        return statistics.median(samples), min(samples), max(samples), len(samples)
    return (None if value is None else float(value)), None, None, int(n or (0 if value is None else 1))


def finish(row: dict[str, Any], *, bench: str, when: str, where: str, at: str) -> dict[str, Any]:
    """A bench row -> a report row: summaries, ratio, met and provenance."""
    value, low, high, n = _summary(row.get("samples"), row.get("value"), row.get("n"))
    baseline, _, _, _ = _summary(row.get("baseline_samples"), row.get("baseline"), None)
    ratio = row.get("ratio")
    if ratio is None and value is not None and baseline:
        ratio = value / baseline
    figure = str(row["figure"])
    if row.get("legacy"):  # measured before sample counts were recorded
        n = None
    elif "p99" in figure and not row.get("samples") and n < MIN_PERCENTILE_SAMPLES:
        figure = figure.replace("p99", "max")
    target = row.get("target")
    target = None if target is None else str(target)
    try:
        met = check_target(target, value, ratio)
    except ValueError:
        met = None
        target = f"{target} (not checkable)"
    return {
        "figure": figure,
        "value": value,
        "min": low,
        "max": high,
        "n": n,
        "repeats": bool(row.get("samples")),
        "unit": row.get("unit", ""),
        "baseline": baseline,
        "ratio": ratio,
        "target": target,
        "met": met,
        "bench": bench,
        "commit": at,
        "date": when,
        "machine": where,
        "note": row.get("note"),
        "plot": row.get("plot"),
    }


def fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "**NO**"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def _count(row: dict[str, Any]) -> str:
    if row["n"] is None:
        return "not recorded"
    if row["repeats"]:
        return f"{row['n']} repeats"
    return f"{row['n']} samples" if row["n"] != 1 else "1 run"


def missed(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["met"] is False]


def render(rows: list[dict[str, Any]], failures: list[str], header: list[str]) -> str:
    """docs/performance.md from report rows."""
    machines = sorted({r["machine"] for r in rows})
    legend = {m: f"M{i + 1}" for i, m in enumerate(machines)}
    lines = [
        "# Performance",
        "",
        "Written by `python -m bench` (see bench/report.py); every row says the commit, date and machine it",
        "was measured on. value = the median of the repeats with their min and max, or one figure over n",
        "samples (a percentile over fewer than 100 samples is shown as the max). Each baseline is measured in",
        'the same run on the same work; ratio = value / baseline unless the figure says otherwise. "met" is',
        "computed from the target (a clause ending in x compares the ratio).",
        *header,
        "",
        "Machines: " + "; ".join(f"{legend[m]} = {m}" for m in machines),
        "",
        "| figure | value | min | max | n | unit | baseline | ratio | target | met | bench | commit | date | machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['figure']} | {fmt(r['value'])} | {fmt(r['min'])} | {fmt(r['max'])} | {_count(r)} | {r['unit']} "
            f"| {fmt(r['baseline'])} | {fmt(r['ratio'])} | {r['target'] or '–'} | {fmt(r['met'])} | {r['bench']} "
            f"| {r['commit']} | {r['date']} | {legend[r['machine']]} |"
        )
    misses = missed(rows)
    lines += ["", "## Missed targets", ""]
    lines += [
        f"- {r['figure']}: {fmt(r['value'])} {r['unit']} (target {r['target']}; ratio {fmt(r['ratio'])})"
        for r in misses
    ] or ["None."]
    notes = [f"- {r['bench']}: {r['note']}" for r in rows if r.get("note")]
    if notes:
        lines += ["", "## Notes", "", *dict.fromkeys(notes)]
    plots = [str(r["plot"]) for r in rows if r.get("plot")]
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in dict.fromkeys(plots)]
    if failures:
        lines += ["", f"Benchmarks that failed in this run: {', '.join(failures)}."]
    return "\n".join(lines) + "\n"


def today() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def load(path: Path) -> list[dict[str, Any]]:
    """Rows of a previous report (docs/performance.json), or []."""
    try:
        return list(json.loads(path.read_text())["rows"])
    except (OSError, ValueError, KeyError):
        return []


def save(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps({"rows": rows}, indent=1, ensure_ascii=False) + "\n")
