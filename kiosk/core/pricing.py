"""Pages, sheets and price of a job (the page-range parser is in kiosk.core.options).

Sheets: the selected pages, halved (rounded up) when printed on both sides,
times the copies. Price: sheets times the shop's per-sheet price for
black-and-white or colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kiosk.core.config import PriceTable
from kiosk.core.options import PrintOptions, count_pages


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
