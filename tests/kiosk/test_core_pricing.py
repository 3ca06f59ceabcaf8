"""Sheets, prices, options mapping (manifest -> kiosk -> IPP), versions."""

from __future__ import annotations

import pytest

from kiosk.core.config import PriceTable
from kiosk.core.errors import PageRangeError
from kiosk.core.options import PrintOptions
from kiosk.core.pricing import compute_price, sheets_for
from kiosk.core.printing import ipp_attributes
from kiosk.core.printing.ipp_printer import job_attribute_list
from kiosk.core.version import update_needed


@pytest.mark.parametrize(
    ("pages", "duplex", "copies", "sheets"),
    [
        (1, False, 1, 1),
        (1, True, 1, 1),
        (5, True, 1, 3),
        (5, False, 2, 10),
        (6, True, 3, 9),
        (0, True, 1, 0),
    ],
)
def test_sheets(pages: int, duplex: bool, copies: int, sheets: int) -> None:
    assert sheets_for(pages, duplex, copies) == sheets


def test_price_bw_duplex_copies_and_ranges() -> None:
    table = PriceTable(bw_cents=10, colour_cents=45, currency="EUR")
    opts = PrintOptions(copies=2, sides="two-sided-long-edge", color="monochrome", page_ranges="1-5")
    price = compute_price(8, opts, table)
    assert (price.pages, price.sheets, price.total_cents) == (5, 6, 60)
    assert price.display == "EUR 0.60"
    colour = compute_price(8, opts.with_(color="color", page_ranges=""), table)
    assert (colour.pages, colour.sheets, colour.total_cents, colour.colour) == (8, 8, 360, True)


def test_price_rejects_range_beyond_document() -> None:
    with pytest.raises(PageRangeError):
        compute_price(3, PrintOptions(page_ranges="2-9"), PriceTable())


@pytest.mark.parametrize(
    ("media", "keyword"),
    [
        ("A4", "iso_a4_210x297mm"),
        ("Letter", "na_letter_8.5x11in"),
        ("A3", "iso_a3_297x420mm"),
        ("Legal", "na_legal_8.5x14in"),
    ],
)
def test_options_to_ipp_attributes(media: str, keyword: str) -> None:
    attrs = ipp_attributes(
        PrintOptions(copies=2, sides="two-sided-long-edge", color="color", page_ranges="5,1-3", media=media)
    )
    assert attrs == {
        "copies": 2,
        "sides": "two-sided-long-edge",
        "print-color-mode": "color",
        "media": keyword,
        "page-ranges": [(1, 3), (5, 5)],
    }
    plain = ipp_attributes(PrintOptions(media=media))
    assert "page-ranges" not in plain and plain["print-color-mode"] == "monochrome"
    wire = {a.name: a.values for a in job_attribute_list(PrintOptions(page_ranges="2-3", media=media))}
    assert wire["page-ranges"] == [(2, 3)] and wire["media"] == [keyword]


@pytest.mark.parametrize(
    ("minimum", "needed"),
    [
        ("", False),
        ("0.1.0", False),
        ("0.0.9", False),
        ("0.2.0", True),
        ("1.0.0-rc1", True),
        ("1.0", False),
        ("garbage", False),
    ],
)
def test_update_needed(minimum: str, needed: bool) -> None:
    assert update_needed(minimum, "0.1.0") is needed


def test_pages_per_sheet_and_orientation_reach_the_printer() -> None:
    attrs = ipp_attributes(PrintOptions(pages_per_sheet=4, orientation="landscape"))
    assert (attrs["number-up"], attrs["orientation-requested"]) == (4, 4)
    wire = {a.name: a.values for a in job_attribute_list(PrintOptions(pages_per_sheet=2))}
    assert wire["number-up"] == [2] and "orientation-requested" not in wire
