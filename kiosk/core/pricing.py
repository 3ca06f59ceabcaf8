"""Pages, sheets and price of a job, and the page-range parser ("1-3,5").

Sheets: the selected pages, halved (rounded up) when printed on both sides,
times the copies. Price: sheets times the shop's per-sheet price for
black-and-white or colour.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from kiosk.core.config import PriceTable
from kiosk.core.errors import PageRangeError
from kiosk.core.jobs import PrintOptions

MAX_RANGE_SPEC = 200
_PART = re.compile(r"^\s*(\d+)?\s*(-)?\s*(\d+)?\s*$")


def parse_page_ranges(spec: str, page_count: int) -> list[int]:
    """The 0-based page indexes a range string selects, in document order, no duplicates.

    "" selects every page. Parts are separated by commas: "3", "1-4",
    "5-" (to the end), "-2" (from the start).

    Raises:
        PageRangeError: malformed, reversed, zero or beyond ``page_count``.
    """
    return [start + i for start, stop in page_range_spans(spec, page_count) for i in range(stop - start)]


def page_range_spans(spec: str, page_count: int) -> list[tuple[int, int]]:
    """Like :func:`parse_page_ranges` but as merged (start, stop) 0-based half-open spans.

    Raises:
        PageRangeError: as parse_page_ranges.
    """
    if page_count < 1:
        raise PageRangeError("the document has no pages")
    spec = (spec or "").strip()
    if not spec:
        return [(0, page_count)]
    if len(spec) > MAX_RANGE_SPEC:
        raise PageRangeError("the page range is too long")
    spans: list[tuple[int, int]] = []
    for part in spec.split(","):
        match = _PART.match(part)
        if match is None or not part.strip():
            raise PageRangeError(f"'{part.strip()}' is not a page or range like 1-3")
        first, dash, last = match.groups()
        if first is None and last is None:
            raise PageRangeError("'-' needs a page number")
        lo = int(first) if first is not None else 1
        hi = int(last) if last is not None else (page_count if dash else lo)
        if not dash and last is not None:
            raise PageRangeError(f"'{part.strip()}' is not a page or range like 1-3")
        if lo < 1 or hi < 1:
            raise PageRangeError("pages start at 1")
        if lo > hi:
            raise PageRangeError(f"range {lo}-{hi} goes backwards")
        if hi > page_count:
            raise PageRangeError(f"page {hi} does not exist (the document has {page_count})")
        spans.append((lo - 1, hi))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, stop in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def count_pages(spec: str, page_count: int) -> int:
    """Number of pages a range string selects.

    Raises:
        PageRangeError: as parse_page_ranges.
    """
    return sum(stop - start for start, stop in page_range_spans(spec, page_count))


def sheets_for(pages: int, duplex: bool, copies: int) -> int:
    """Sheets of paper for ``copies`` copies of ``pages`` pages (duplex halves, rounded up)."""
    per_copy = math.ceil(pages / 2) if duplex else pages
    return per_copy * copies


@dataclass(frozen=True)
class Price:
    """What a job costs with given options."""

    pages: int  # selected pages in one copy
    sheets: int  # sheets over all copies
    copies: int
    colour: bool
    per_sheet_cents: int
    total_cents: int
    currency: str

    @property
    def display(self) -> str:
        return PriceTable(currency=self.currency).format(self.total_cents)

    @property
    def summary(self) -> str:
        """e.g. '3 pages, 2 sheets x 2 copies = 4 sheets, EUR 0.40'."""
        return (f"{self.pages} page{'s' if self.pages != 1 else ''}, {self.sheets} sheet"
                f"{'s' if self.sheets != 1 else ''}, {self.display}")


def compute_price(page_count: int, options: PrintOptions, table: PriceTable) -> Price:
    """Pages, sheets and total for a document of ``page_count`` pages.

    Raises:
        PageRangeError: if options.page_ranges does not fit the document.
        ValueError: if the options are invalid.
    """
    options.validate()
    pages = count_pages(options.page_ranges, page_count)
    sheets = sheets_for(pages, options.duplex, options.copies)
    colour = options.color == "color"
    per_sheet = table.colour_cents if colour else table.bw_cents
    return Price(pages=pages, sheets=sheets, copies=options.copies, colour=colour,
                 per_sheet_cents=per_sheet, total_cents=sheets * per_sheet, currency=table.currency)
