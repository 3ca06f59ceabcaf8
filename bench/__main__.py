"""Run every benchmark and write docs/performance.md (and docs/performance.json).

Usage: python -m bench [NAME ...]   (NAME = a module of bench/, e.g. envelope_bench)

With names, only those benches run and their rows replace theirs; the other
rows are kept exactly as they were measured (their commit, date and machine
included). The row format, summaries and the computed "met" column are in
bench/report.py. A summary of missed targets is printed at the end.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import report
from bench.common import CREATE_JOB_RATE_NOTE

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "performance.md"
DATA = ROOT / "docs" / "performance.json"


def _legacy_rows() -> list[dict[str, Any]]:
    """Rows of a docs/performance.md written before per-row provenance (one-time migration)."""
    try:
        text = OUT.read_text()
    except OSError:
        return []
    header = re.search(r"Measured by `python -m bench` on (\S+); machine: (.+)\.$", text, re.MULTILINE)
    if header is None:
        return []
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or line.startswith(("| figure ", "|---")) or len(cells) != 7:
            continue
        figure, value, unit, baseline, ratio, target, bench = cells

        def num(cell: str) -> float | None:
            try:
                return float(cell.replace(",", ""))
            except ValueError:
                return None

        rows.append(
            report.finish(
                {
                    "figure": figure,
                    "value": num(value),
                    "unit": unit,
                    "baseline": num(baseline),
                    "ratio": num(ratio),
                    "target": None if target == "–" else target,
                    "legacy": True,
                },
                bench=bench,
                when=header.group(1),
                where=header.group(2),
                at="unknown (before per-row commits)",
            )
        )
    return rows


def main(argv: list[str]) -> int:
    names = argv or sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_")
    )
    when, where, at = report.today(), report.machine(), report.commit()
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    ran: list[str] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "run", None) or getattr(module, "figures", None)
        if run is None:  # a helper module
            continue
        ran.append(name)
        print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            produced = []
            for raw in run():
                row = report.finish(raw, bench=name, when=when, where=where, at=at)
                produced.append(row)
                print(
                    f"   {row['figure']}: {report.fmt(row['value'])} {row['unit']} (met: {report.fmt(row['met'])})",
                    flush=True,
                )
            rows += produced
        except Exception:  # noqa: BLE001 - one failing bench must not hide the others
            failures.append(name)
            traceback.print_exc()
        print(f"   ({time.monotonic() - started:.1f} s)", flush=True)
    if argv:  # a partial run: keep the other benches' rows as they were measured
        previous = report.load(DATA) or _legacy_rows()
        kept = [r for r in previous if r["bench"] not in ran or r["bench"] in failures]
        rows = sorted(kept + rows, key=lambda r: r["bench"])
    header = ["", f"Relay benches: {CREATE_JOB_RATE_NOTE}."]
    report.save(DATA, rows)
    OUT.write_text(report.render(rows, failures, header))
    print(f"wrote {OUT.relative_to(ROOT)} ({len(rows)} figures)")
    misses = report.missed(rows)
    print(
        f"missed targets: {len(misses)}"
        + "".join(f"\n  - {r['figure']}: {report.fmt(r['value'])} {r['unit']} (target {r['target']})" for r in misses)
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
