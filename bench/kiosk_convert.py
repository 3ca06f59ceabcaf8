"""Kiosk: Office documents to PDF in the sandbox, per type, and the kiosk's memory meanwhile.

Figures (this machine, this run):

* conversion time per type: a 10-page document made by LibreOffice itself
  (kiosk.core.demo_documents; the DOCX with a table and an image) through
  :func:`kiosk.core.convert.convert_to_pdf` (bubblewrap, fresh profile in
  /dev/shm, limits), 5 runs (median, min, max). Baseline: the same file converted by a bare
  ``soffice --convert-to pdf`` with a fresh profile, no sandbox (3 runs),
  so the ratio is the cost of the sandbox.
* peak RSS during a DOCX conversion, sampled every 20 ms from /proc: the kiosk
  process alone, and the kiosk with every process it started (LibreOffice).

Run: ``python -m bench kiosk_convert`` or ``python bench/kiosk_convert.py``.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pypdfium2 as pdfium

from kiosk.core.convert import convert_to_pdf, find_soffice, sandbox
from kiosk.core.demo_documents import libreoffice_convert, make_document

KINDS = ("docx", "doc", "odt", "rtf", "txt", "xlsx", "ods", "pptx", "odp")
RUNS = 5
BASELINE_RUNS = 3
PAGE = 4096


def _times(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(round(time.perf_counter() - start, 3))
    return times


def _load() -> str:
    """The machine's 1-minute load average and core count, for the row's note."""
    try:
        one = Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        return "load unknown"
    return f"load average {one} on {os.cpu_count()} cores"


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _tree_rss(pid: int) -> int:
    total, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _rss(current)
        todo += _children(current)
    return total


def peak_rss_during(fn) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(peak RSS of this process, peak RSS of this process and its descendants) while fn runs."""
    import os

    me = os.getpid()
    peaks = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peaks[0] = max(peaks[0], _rss(me))
            peaks[1] = max(peaks[1], _tree_rss(me))
            done.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        fn()
    finally:
        done.set()
        thread.join()
    return peaks[0], peaks[1]


def run() -> list[dict[str, object]]:
    box = sandbox()
    if box is None or find_soffice() is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    rows: list[dict[str, object]] = []
    load_before = _load()
    documents = {kind: make_document(kind, pages=10) for kind in KINDS}
    for kind, data in documents.items():
        pdf = pdfium.PdfDocument(bytes(convert_to_pdf(data, kind)))
        pages = len(pdf)
        pdf.close()
        if pages != 10:  # the figure is for a 10-page document, nothing else
            raise RuntimeError(f"the sample {kind} converted to {pages} pages, not 10")
        sandboxed = _times(lambda d=data, k=kind: convert_to_pdf(d, k), RUNS)
        bare = _times(lambda d=data, k=kind: libreoffice_convert({f"doc.{k}": d}, "pdf"), BASELINE_RUNS)
        rows.append(
            {
                "figure": f"kiosk: 10-page {kind.upper()} -> PDF in the sandbox ({box.method}); "
                "baseline: bare soffice --convert-to pdf, no sandbox",
                "samples": sandboxed,
                "unit": "s",
                "baseline_samples": bare,
                "target": "< 60 s (the time limit)",
            }
        )
    docx = documents.get("docx") or make_document("docx", pages=10)
    peaks = [peak_rss_during(lambda: convert_to_pdf(docx, "docx")) for _ in range(RUNS)]
    rows.append(
        {
            "figure": "kiosk: peak RSS of the kiosk process during a 10-page DOCX conversion",
            "samples": [round(own / 2**20, 1) for own, _tree in peaks],
            "unit": "MiB",
            "target": None,
        }
    )
    rows.append(
        {
            "figure": "kiosk: peak RSS of the kiosk and LibreOffice together during a 10-page DOCX conversion",
            "samples": [round(tree / 2**20, 1) for _own, tree in peaks],
            "unit": "MiB",
            "target": "< 2048 MiB (the memory limit)",
        }
    )
    note = f"1-min {load_before} at the start, {_load()} at the end (a shared machine)"
    for row in rows:
        row["note"] = note
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
