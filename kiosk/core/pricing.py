"""Pages, sheets and price of a job: the pricing rules the kiosk and the page share.

Rules (web_bridge/static/js/pricing.js implements the same; both pass
tests/data/pricing_cases.json):

- each file is priced on its own (it starts on a new sheet);
- pages = the pages its page ranges select (all when "");
- sides of paper = pages / pages_per_sheet, rounded up; sheets per copy =
  sides, halved and rounded up when printed on both sides; sheets = that
  times the file's copies;
- amount = sheets x the price list's price of one sheet for the job's paper,
  colour mode and one/two sides (minor currency units); no such price: the
  options are not offered;
- a file whose pages cannot be counted before printing (a document the kiosk
  converts) is "priced at the counter": no amount, and the total covers the
  other files only (``Quote.complete`` is False).

The page-range parser is in kiosk.core.options.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kiosk.core.config import PriceTable
from kiosk.core.options import MEDIA, PrintOptions, count_pages


class NotOffered(ValueError):
    """The shop has no price for this paper, colour mode and sides."""


def sheets_for(pages: int, duplex: bool, copies: int, pages_per_sheet: int = 1) -> int:
    """Sheets of paper for ``copies`` copies of ``pages`` pages."""
    sides = math.ceil(pages / pages_per_sheet)
    per_copy = math.ceil(sides / 2) if duplex else sides
    return per_copy * copies


@dataclass(frozen=True)
class SheetPrice:
    """Price of one sheet (minor currency units) for a paper size, colour mode and one/two sides."""

    media: str
    color: str
    duplex: bool
    amount: int


@dataclass(frozen=True)
class PriceList:
    """The shop's price per sheet by paper, colour mode and sides, in one currency."""

    currency: str
    sheets: tuple[SheetPrice, ...]

    def per_sheet(self, media: str, color: str, duplex: bool) -> int:
        """Price of one sheet. Raises: NotOffered."""
        for entry in self.sheets:
            if (entry.media, entry.color, entry.duplex) == (media, color, duplex):
                return entry.amount
        raise NotOffered(
            f"{media} {'colour' if color == 'color' else 'black-and-white'}"
            f"{' two-sided' if duplex else ''} is not offered"
        )

    @classmethod
    def from_table(cls, table: PriceTable, media: Iterable[str] = MEDIA) -> PriceList:
        """The kiosk's settings as a price list: black-and-white and colour per sheet on every paper,
        with ``table.sheets`` entries ([media, color, duplex, amount]) replacing those they name."""
        prices = {
            (m, c, d): (table.colour_cents if c == "color" else table.bw_cents)
            for m in media
            for c in ("monochrome", "color")
            for d in (False, True)
        }
        for m, c, d, amount in table.sheets:
            prices[(str(m), str(c), bool(d))] = int(amount)
        return cls(table.currency, tuple(SheetPrice(m, c, d, a) for (m, c, d), a in prices.items()))


@dataclass(frozen=True)
class PriceLine:
    """One file's line of a quote; ``amount`` None: priced at the counter (pages not countable)."""

    pages: int | None
    sheets: int | None
    amount: int | None


@dataclass(frozen=True)
class Quote:
    """An itemised price: one line per file, the total of the priced lines."""

    lines: tuple[PriceLine, ...]
    total: int
    currency: str

    @property
    def complete(self) -> bool:
        """Every file has a price (none is priced at the counter)."""
        return all(line.amount is not None for line in self.lines)


def price_file(page_count: int | None, options: PrintOptions, prices: PriceList) -> PriceLine:
    """The line of one file printed with ``options`` (its own copies and page ranges).

    Raises:
        PageRangeError: the ranges do not fit the document.
        NotOffered: no price for the paper, colour and sides.
        ValueError: invalid options.
    """
    options.validate()
    per_sheet = prices.per_sheet(options.media, options.color, options.duplex)
    if page_count is None:
        return PriceLine(None, None, None)
    pages = count_pages(options.page_ranges, page_count)
    sheets = sheets_for(pages, options.duplex, options.copies, options.pages_per_sheet)
    return PriceLine(pages, sheets, sheets * per_sheet)


def quote(files: Sequence[tuple[int | None, PrintOptions]], prices: PriceList) -> Quote:
    """Price every file [(page count or None, its options)].

    Raises:
        PageRangeError, NotOffered, ValueError: as :func:`price_file`.
    """
    lines = tuple(price_file(count, options, prices) for count, options in files)
    return Quote(lines, sum(line.amount or 0 for line in lines), prices.currency)


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


def compute_price(page_count: int, options: PrintOptions, table: PriceTable | PriceList) -> Price:
    """Pages, sheets and total for a document of ``page_count`` pages (the rules of :func:`price_file`).

    Raises:
        PageRangeError: if options.page_ranges does not fit the document.
        NotOffered: no price for the paper, colour and sides.
        ValueError: if the options are invalid.
    """
    prices = table if isinstance(table, PriceList) else PriceList.from_table(table)
    line = price_file(page_count, options, prices)
    assert line.pages is not None and line.sheets is not None and line.amount is not None
    return Price(
        pages=line.pages,
        sheets=line.sheets,
        copies=options.copies,
        colour=options.color == "color",
        per_sheet_cents=prices.per_sheet(options.media, options.color, options.duplex),
        total_cents=line.amount,
        currency=prices.currency,
    )
