"""pricing.js in Chromium passes the same cases as the kiosk (tests/data/pricing_cases.json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.browser import StaticServer

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CASES: dict[str, Any] = json.loads((ROOT / "tests" / "data" / "pricing_cases.json").read_text(encoding="utf-8"))

RUN_CASES = """(cases) => {
  const { quote, PricingError, checkOptions } = window.pricing;
  return cases.cases.map((c) => {
    const raw = cases.price_lists[c.price_list];
    const files = c.files.map((f) => ({
      pages: f.pages,
      options: { ...c.options, copies: f.copies ?? 1, page_ranges: f.page_ranges ?? "" },
    }));
    try {
      checkOptions(c.options);
      const q = quote(files, raw);
      const lines = q.lines.map((l) => (l.atCounter ? { at_counter: true } : l));
      return { lines, total: q.total, complete: q.complete };
    } catch (e) {
      if (!(e instanceof PricingError)) return { unexpected: String(e) };
      return { error: e.code };
    }
  });
}"""

RUN_RANGES = """(cases) => cases.map((c) => {
  try { return window.pricing.parsePageRanges(c.spec, c.pages).map((i) => i + 1); }
  catch (e) { return e.code === "page_range" ? "error" : String(e); }
})"""


@pytest.fixture(scope="module")
def harness_url() -> Iterator[str]:
    routes = {
        "/": HERE / "pricing_harness.html",
        "/harness.js": HERE / "pricing_harness.js",
        "/js/pricing.js": ROOT / "web_bridge" / "static" / "js" / "pricing.js",
        "/js/order.js": ROOT / "web_bridge" / "static" / "js" / "order.js",
        "/js/payment.js": ROOT / "web_bridge" / "static" / "js" / "payment.js",
        "/js/i18n.js": ROOT / "web_bridge" / "static" / "js" / "i18n.js",
    }
    with StaticServer(routes) as server:
        yield server.url + "/"


@pytest.fixture
def page(browser_page: Any, harness_url: str) -> Any:
    from playwright.sync_api import expect

    browser_page.goto(harness_url)
    expect(browser_page.locator("body")).to_have_attribute("data-ready", "1")
    return browser_page


def test_pricing_cases_in_browser(page: Any) -> None:
    got = page.evaluate(RUN_CASES, CASES)
    for case, result in zip(CASES["cases"], got, strict=True):
        assert result == case["expect"], case["name"]


def test_page_range_cases_in_browser(page: Any) -> None:
    got = page.evaluate(RUN_RANGES, CASES["page_ranges"])
    assert got == [c["expect"] for c in CASES["page_ranges"]]


def test_page_helpers(page: Any) -> None:
    """What the page shows: canonical ranges for the manifest, offered choices, formatted amounts."""
    got = page.evaluate("""() => {
      const p = window.pricing;
      const caps = { media: ["A4"], color: ["monochrome"], sides: ["one-sided"], pages_per_sheet: [1, 2],
                     currency: "JPY", prices: [{ media: "A4", color: "monochrome", duplex: false, amount: 20 }],
                     accepted_media_types: ["application/pdf"] };
      return { canonical: [p.canonicalPageRanges(" 5, 1-3 ,2", 9), p.canonicalPageRanges("1-", 4),
                           p.canonicalPageRanges("7-", 9)],
               offered: p.offered(caps), none: p.offered(null), list: p.priceListFrom(caps),
               eur: p.formatAmount(110, "EUR", "en"), jpy: p.formatAmount(20, "JPY", "en"),
               syntax: p.pageRangeSpans("4-", null) };
    }""")
    assert got["canonical"] == ["1-3,5", "", "7-9"]
    assert got["offered"] == {
        "media": ["A4"],
        "color": ["monochrome"],
        "sides": ["one-sided"],
        "pages_per_sheet": [1, 2],
    }
    assert got["none"] is None
    assert got["list"] == {
        "currency": "JPY",
        "prices": [{"media": "A4", "color": "monochrome", "duplex": False, "amount": 20}],
    }
    assert (got["eur"], got["jpy"]) == ("€1.10", "¥20")
    assert got["syntax"] == [[3, 4]]


def test_the_page_prices_the_order_from_the_published_price_list(page: Any) -> None:
    """order.js (the page): the shop's choices, the itemised price, and format-2 manifest input."""
    got = page.evaluate("""async () => {
      const order = await import("/js/order.js");
      const caps = { media: ["A4"], color: ["monochrome"], sides: ["one-sided", "two-sided-long-edge"],
                     pages_per_sheet: [1, 2], currency: "EUR", accepted_media_types: ["application/pdf"],
                     prices: [{ media: "A4", color: "monochrome", duplex: true, amount: 15 },
                              { media: "A4", color: "monochrome", duplex: false, amount: 10 }] };
      const shop = { capabilities: caps };
      const job = { color: "monochrome", sides: "two-sided-long-edge", media: "A4", pagesPerSheet: 1,
                    orientation: "portrait" };
      const files = [
        { file: { name: "a.pdf", size: 5 }, type: "application/pdf", sha256: "ab".repeat(32), total: 5, copies: 2,
          pageRanges: "5, 1-3" },
        { file: { name: "b.png", size: 9 }, type: "image/png", sha256: "cd".repeat(32), total: 1, copies: 1,
          pageRanges: "" },
      ];
      const converted = [{ ...files[0], total: null, pageRanges: "" }];
      return {
        offer: order.shopOffer(shop), any: order.shopOffer({ capabilities: null }).color,
        price: order.priceOf(shop, files, job), counter: order.priceOf(shop, converted, job),
        unpriced: order.priceOf(shop, files, { ...job, color: "color" }), none: order.priceOf({}, files, job),
        input: order.manifestInput(new Uint8Array(32), { name: "", note: "" }, files, job),
        ranges: [order.parseRanges("2-9", 5), order.parseRanges("x", 5), order.parseRanges("4-", null)],
        mixed: order.priceOf(shop, [files[0], { ...converted[0], file: { name: "c.docx", size: 3 } }], job),
        photoJob: order.manifestInput(new Uint8Array(32), { name: "", note: "" }, files,
          { ...job, photoSize: "10x15", photosPerSheet: 2, photoFit: "fill" }).options,
        pdfJob: order.manifestInput(new Uint8Array(32), { name: "", note: "" }, [files[0]],
          { ...job, photoSize: "10x15", photosPerSheet: 2, photoFit: "fill" }).options,
        fits: Object.fromEntries(["A4", "Letter", "A3", "Legal"].flatMap((media) => ["page", "10x15", "4x6"].flatMap(
          (size) => [1, 2, 4].map((n) => [`${media} ${size} ${n}`, order.photoLayoutFits(size, n, media)])))),
      };
    }""")
    assert got["offer"]["color"] == ["monochrome"] and got["offer"]["pagesPerSheet"] == [1, 2]
    assert got["any"] == ["monochrome", "color"]
    assert got["price"] == {
        "total": 75,
        "complete": True,
        "currency": "EUR",
        "lines": [{"label": "a.pdf", "amount": 60}, {"label": "b.png", "amount": 15}],
    }
    assert got["counter"] is None and got["unpriced"] is None and got["none"] is None
    assert [(f["copies"], f["page_ranges"]) for f in got["input"]["files"]] == [(2, "1-3,5"), (1, "")]
    assert got["input"]["options"] == {
        "color": "monochrome",
        "sides": "two-sided-long-edge",
        "media": "A4",
        "pages_per_sheet": 1,
        "orientation": "portrait",
    }
    # a document only the shop can count: its own line "priced at the counter", the rest totalled
    assert got["mixed"] == {
        "total": 60,
        "currency": "EUR",
        "complete": False,
        "lines": [{"label": "a.pdf", "amount": 60}, {"label": "c.docx", "amount": None}],
    }
    # photo options go into the manifest only for a job with a photo
    assert {k: got["photoJob"][k] for k in ("photo_fit", "photo_size", "photos_per_sheet")} == {
        "photo_fit": "fill",
        "photo_size": "10x15",
        "photos_per_sheet": 2,
    }
    assert not {"photo_fit", "photo_size", "photos_per_sheet"} & set(got["pdfJob"])
    # the page allows exactly the photo layouts the kiosk can place (kiosk/core/images.py)
    from kiosk.core.images import PhotoLayout

    assert got["fits"] == {
        f"{media} {size} {n}": PhotoLayout("fit", size, n).fits(media)
        for media in ("A4", "Letter", "A3", "Legal")
        for size in ("page", "10x15", "4x6")
        for n in (1, 2, 4)
    }
    assert got["ranges"] == [
        {"ok": False, "reason": "range"},
        {"ok": False, "reason": "syntax"},
        {"ok": True, "pages": None},
    ]


def test_the_status_page_says_what_to_pay_at_the_counter(page: Any) -> None:
    """payment.js: the kiosk's amount when it sent one, else the page's total; unknown: priced at the counter."""
    got = page.evaluate("""async () => {
      const p = await import("/js/payment.js");
      const record = { code: "K7Q2XM", summary: { price: { total: 120, currency: "EUR", lines: [] } } };
      const counter = { code: "K7Q2XM", summary: { price: null } };
      const partial = { code: "K7Q2XM", summary: { price: { total: 60, currency: "EUR", complete: false, lines: [] } } };
      const el = document.createElement("p");
      const shown = (rec, job) => { p.renderPayment(el, rec, job); return el.hidden ? null : el.textContent; };
      return {
        page: shown(record, { state: "queued" }),
        kiosk: shown(record, { state: "received", amountDue: { amount: 135, currency: "EUR" } }),
        counter: shown(counter, { state: "printing" }),
        partial: shown(partial, { state: "queued" }),
        sealed: shown(counter, { state: "printing", amountDue: { cents: 240, currency: "EUR" } }),
        done: shown(record, { state: "completed" }),
        rejected: shown(record, { state: "rejected" }),
        nocode: shown({ summary: record.summary }, { state: "queued" }),
        yen: p.payText("K7Q2XM", { amount: 20, currency: "JPY" }, "en"),
      };
    }""")
    assert got["page"] == "Pay €1.20 at the counter; show code K7Q2XM"
    assert got["kiosk"] == "Pay €1.35 at the counter; show code K7Q2XM"  # the kiosk's amount wins
    assert got["counter"] == "Priced at the counter; show code K7Q2XM"
    assert got["partial"] == got["counter"]  # a Word file in the job: the page's part-total is not the amount due
    assert got["sealed"] == "Pay €2.40 at the counter; show code K7Q2XM"  # the kiosk's sealed detail's shape
    assert got["done"] == got["page"] and got["rejected"] is None and got["nocode"] is None
    assert got["yen"] == "Pay ¥20 at the counter; show code K7Q2XM"
