"""The kiosk's pricing rules pass the shared cases (tests/data/pricing_cases.json; pricing.js passes the same)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.config import PriceTable
from kiosk.core.errors import PageRangeError
from kiosk.core.options import PrintOptions, parse_page_ranges
from kiosk.core.pricing import NotOffered, PriceList, SheetPrice, compute_price, quote

CASES: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "pricing_cases.json").read_text(encoding="utf-8")
)


def price_list(name: str) -> PriceList:
    raw = CASES["price_lists"][name]
    return PriceList(raw["currency"], tuple(SheetPrice(**p) for p in raw["prices"]))


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    """What the rules give for one case, in the JSON's terms."""
    job = PrintOptions(**case["options"])
    files = [
        (
            f["pages"],
            PrintOptions(**{**case["options"], "copies": f.get("copies", 1), "page_ranges": f.get("page_ranges", "")}),
        )
        for f in case["files"]
    ]
    try:
        job.validate()
        result = quote(files, price_list(case["price_list"]))
    except PageRangeError:
        return {"error": "page_range"}
    except NotOffered:
        return {"error": "not_offered"}
    except ValueError:
        return {"error": "options"}
    lines = [
        {"at_counter": True}
        if line.amount is None
        else {"pages": line.pages, "sheets": line.sheets, "amount": line.amount}
        for line in result.lines
    ]
    return {"lines": lines, "total": result.total, "complete": result.complete}


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_pricing_case(case: dict[str, Any]) -> None:
    assert run_case(case) == case["expect"]


@pytest.mark.parametrize("case", CASES["page_ranges"], ids=lambda c: f"{c['spec']!r}/{c['pages']}")
def test_page_range_case(case: dict[str, Any]) -> None:
    if case["expect"] == "error":
        with pytest.raises(PageRangeError):
            parse_page_ranges(case["spec"], case["pages"])
    else:
        assert [i + 1 for i in parse_page_ranges(case["spec"], case["pages"])] == case["expect"]


def test_kiosk_settings_price_the_same_way() -> None:
    """compute_price (what the kiosk shows) follows the same rules, from the shop's settings."""
    table = PriceTable(bw_cents=10, colour_cents=50, currency="EUR", sheets=(("A4", "monochrome", True, 15),))
    price = compute_price(9, PrintOptions(copies=3, sides="two-sided-long-edge", pages_per_sheet=4), table)
    assert (price.pages, price.sheets, price.total_cents, price.per_sheet_cents) == (9, 6, 90, 15)
    assert PriceList.from_table(table).per_sheet("Legal", "color", False) == 50
