"""How a job is printed file by file: each file its own print job, its own pages and price line.

A job of a report and a photo printed double-sided must not put the photo on
the back of the report's last page, and must not be priced that way: every
file starts on a new sheet. Page ranges typed on the kiosk count across the
whole job (the preview numbers pages 1..N over all files); the plan splits
them into each file's own pages. Per-file options from the manifest (format
v2) replace the job's options file by file once they exist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.core.config import PriceTable
from kiosk.core.errors import PageRangeError, locate
from kiosk.core.options import PrintOptions, page_range_spans
from kiosk.core.pricing import Price, compute_price


@dataclass(frozen=True)
class FilePrint:
    """One file of a job as it will be printed."""

    index: int  # the file's position in the job
    options: PrintOptions  # page_ranges in the file's own numbering ("" = all)
    price: Price


@dataclass(frozen=True)
class PrintPlan:
    """The files to send (files with no selected page are left out) and the total."""

    files: tuple[FilePrint, ...]
    total: Price


def _local_ranges(spans: list[tuple[int, int]], start: int, count: int) -> str:
    """The part of job-wide 0-based spans inside [start, start+count) as a 1-based range string."""
    parts = []
    for lo, hi in spans:
        a, b = max(lo, start), min(hi, start + count)
        if a < b:
            a, b = a - start + 1, b - start
            parts.append(str(a) if a == b else f"{a}-{b}")
    if parts == [f"1-{count}"] or (count == 1 and parts == ["1"]):
        return ""
    return ",".join(parts)


def plan_print(
    page_counts: Sequence[int],
    options: PrintOptions,
    table: PriceTable,
    file_options: Sequence[PrintOptions | None] | None = None,
) -> PrintPlan:
    """Split ``options`` (job-wide page ranges) into one print per file and price each.

    ``file_options`` (per-file options from the manifest, when there are any)
    replace ``options`` for that file, with its page ranges in its own numbering.

    Raises:
        PageRangeError: the ranges do not fit the job; ValueError: invalid options.
    """
    options.validate()
    total_pages = sum(page_counts)
    try:
        spans = page_range_spans(options.page_ranges, total_pages)
    except PageRangeError as exc:
        raise locate(exc, file_number=1 if len(page_counts) == 1 else None) from None
    files: list[FilePrint] = []
    start = 0
    for index, count in enumerate(page_counts):
        own = file_options[index] if file_options and index < len(file_options) else None
        if own is not None:
            file_opts = own
        else:
            local = _local_ranges(spans, start, count)
            selected = options.page_ranges.strip() == "" or local != "" or _covers(spans, start, count)
            start += count
            if not selected:
                continue
            file_opts = dataclasses.replace(options, page_ranges=local)
            files.append(FilePrint(index, file_opts, compute_price(count, file_opts, table)))
            continue
        start += count
        try:
            price = compute_price(count, file_opts, table)
        except PageRangeError as exc:
            raise locate(exc, file_number=index + 1) from None
        files.append(FilePrint(index, file_opts, price))
    prices = [f.price for f in files]
    total = Price(
        pages=sum(p.pages for p in prices),
        sheets=sum(p.sheets for p in prices),
        copies=options.copies,
        colour=options.color == "color",
        per_sheet_cents=table.colour_cents if options.color == "color" else table.bw_cents,
        total_cents=sum(p.total_cents for p in prices),
        currency=table.currency,
    )
    return PrintPlan(tuple(files), total)


def _covers(spans: list[tuple[int, int]], start: int, count: int) -> bool:
    """True when the spans select every page of [start, start+count)."""
    return any(lo <= start and hi >= start + count for lo, hi in spans)
