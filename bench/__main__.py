"""Run every benchmark and write docs/performance.md.

Usage: python -m bench [NAME ...]   (NAME = a module of bench/, e.g. envelope_bench)

With names, only those benches run and their rows replace theirs in the
existing table; the other rows are kept as they were measured.

Each module in bench/ exposes ``run() -> list[dict]`` with the keys figure,
value, unit, baseline, ratio, target (baseline and ratio may be None, and a
row may carry "plot": a PNG path relative to docs/). Figures are measured in
this run, on this machine, never copied.
"""

from __future__ import annotations

import datetime
import importlib
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "performance.md"


def machine() -> str:
    """Cores and CPU model of this machine."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def _previous(rerun: set[str]) -> tuple[list[str], list[str]]:
    """Table rows and plot names of docs/performance.md from benches not in ``rerun``."""
    rows, plots = [], []
    for line in OUT.read_text().splitlines():
        if line.startswith("| ") and not line.startswith(("| figure ", "|---")):
            if line.rsplit("|", 2)[-2].strip() not in rerun:
                rows.append(line)
        elif line.startswith("![") and line.endswith(")"):
            plots.append(line[line.index("(") + 1 : -1])
    return rows, plots


def main(argv: list[str]) -> int:
    names = argv or sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_")
    )
    rows: list[dict[str, object]] = []
    failures: list[str] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "run", None) or getattr(module, "figures", None)
        if run is None:  # a helper module
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            for row in run():
                rows.append({"bench": name, **row})
                print(f"   {row['figure']}: {_fmt(row['value'])} {row.get('unit', '')}", flush=True)
        except Exception:  # noqa: BLE001 - one failing bench must not hide the others
            failures.append(name)
            traceback.print_exc()
        print(f"   ({time.monotonic() - started:.1f} s)", flush=True)
    lines = [
        "# Performance",
        "",
        f"Measured by `python -m bench` on {datetime.date.today().isoformat()}; machine: {machine()}.",
        "Each baseline is measured in the same run, on the same bytes; ratio = value / baseline",
        "(or baseline / value where lower is better, as the figure says).",
        "",
        "| figure | value | unit | baseline | ratio | target | bench |",
        "|---|---|---|---|---|---|---|",
    ]
    table = [
        f"| {row['figure']} | {_fmt(row['value'])} | {row.get('unit', '')} | {_fmt(row.get('baseline'))} "
        f"| {_fmt(row.get('ratio'))} | {row.get('target') or '–'} | {row['bench']} |"
        for row in rows
    ]
    plots = [str(row["plot"]) for row in rows if row.get("plot")]
    if argv and OUT.exists():  # a partial run: keep the other benches' rows and plots
        kept, kept_plots = _previous(set(names))
        table = sorted(kept + table, key=lambda line: line.rsplit("|", 2)[-2].strip())
        plots = kept_plots + plots
    lines += table
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in dict.fromkeys(plots)]
    if failures:
        lines += ["", f"Benchmarks that failed in this run: {', '.join(failures)}."]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(rows)} figures)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
