"""The customer's journey on the upload page at 360x740 and 320x640, in headless
Chromium against a real relay: thumbnails and page counts (pdf.js, the browser's image
decoder), duplicates and refused types flagged, per-file pages checked against the page
count, the order summary, the status link in another tab, the steps to done, the
rejection and withdraw states, and axe-core on every state.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from cloudtab.v1 import common_pb2
from playwright.sync_api import expect

from tests.bridge.docs import pdf_bytes, png_bytes
from tests.bridge.live import files_containing
from tests.bridge.page_helpers import (
    PHONES,
    axe_violations,
    new_page,
    no_overflow,
    phone_context,
    shot,
)

MARKER = b"CLOUDTAB-PLAINTEXT-MARKER-5b1c"


@pytest.mark.parametrize("size", list(PHONES))
def test_phone_journey(size: str, bridge: Any, kiosk: Any, relay: Any, chromium_browser: Any) -> None:
    pdf = pdf_bytes(3, MARKER, pad_to=2_300_000)  # three pages, several upload chunks
    photo = png_bytes()
    # The shop prints A4 and A3, no Letter or Legal, and publishes its prices per sheet.
    kiosk.publish(
        common_pb2.ShopCapabilities(
            media=["A4", "A3"],
            color=["monochrome", "color"],
            sides=["one-sided", "two-sided-long-edge", "two-sided-short-edge"],
            pages_per_sheet=[1, 2, 4],
            currency="EUR",
            accepted_media_types=["application/pdf", "image/jpeg", "image/png"],
            prices=[
                common_pb2.SheetPrice(media=m, color=c, duplex=d, amount=a)
                for m, c, d, a in [
                    ("A4", "monochrome", False, 10),
                    ("A4", "monochrome", True, 15),
                    ("A4", "color", False, 50),
                    ("A4", "color", True, 80),
                    ("A3", "monochrome", False, 20),
                    ("A3", "color", False, 100),
                ]
            ],
        )
    )
    with phone_context(chromium_browser, size) as context:
        page = new_page(context)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
        page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
        expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
        expect(page.locator("#key-box")).to_have_class(re.compile("verified"))
        expect(page.locator("#key-title")).to_have_text("Shop key verified")
        assert page.locator("#key-box").get_attribute("open") is None  # a compact badge
        assert page.locator("#key-box").bounding_box()["height"] < 60
        expect(page.locator(".drop-only")).to_be_hidden()  # no "drop them here" on touch
        assert no_overflow(page)
        assert axe_violations(page) == []
        shot(page, size, "01-upload-page")

        page.set_input_files(
            "#file-input",
            files=[
                {"name": "thesis.pdf", "mimeType": "application/pdf", "buffer": pdf},
                {"name": "photo.png", "mimeType": "image/png", "buffer": photo},
                {"name": "photo copy.png", "mimeType": "image/png", "buffer": photo},
                {
                    "name": "letter.docx",
                    "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "buffer": b"PK\x03\x04" + b"x" * 3000,
                },
            ],
        )
        rows = page.locator("#file-list li")
        expect(rows).to_have_count(4)
        expect(rows.nth(0).locator(".thumb img")).to_be_visible()  # page 1 drawn by pdf.js
        expect(rows.nth(0)).to_have_attribute("data-pages", "3")
        expect(rows.nth(0).locator(".file-meta")).to_contain_text("3 pages")
        expect(rows.nth(1).locator(".thumb img")).to_be_visible()  # the browser's decoder
        expect(rows.nth(1)).to_have_attribute("data-pages", "1")
        expect(rows.nth(2).locator(".file-flag")).to_contain_text("Same file as “photo.png”")
        expect(rows.nth(3)).to_have_class(re.compile("bad"))
        expect(rows.nth(3).locator(".file-problem")).to_contain_text("cannot print a Word document")
        expect(page.locator("#form-error")).to_contain_text("needs your attention")
        assert no_overflow(page)
        assert axe_violations(page) == []
        shot(page, size, "02-files-flagged")

        rows.nth(3).locator(".remove").click()
        rows.nth(2).locator(".remove").click()
        expect(rows).to_have_count(2)
        pdf_row = rows.nth(0)
        pdf_row.locator(".file-opts input[type=text]").fill("2-5")
        expect(pdf_row.locator(".file-problem")).to_contain_text("only 3 pages")
        pdf_row.locator(".file-opts input[type=text]").fill("2-3")
        pdf_row.locator(".file-opts input[type=number]").fill("2")
        expect(pdf_row.locator(".file-problem")).to_be_hidden()
        page.select_option("#opt-color", "color")
        page.select_option("#opt-sides", "two-sided-long-edge")
        page.fill("#customer-name", "Ada L.")
        expect(page.locator("#form-error")).to_be_hidden()
        expect(page.locator("#order-box")).to_be_visible()
        expect(page.locator("#order-lines")).to_contain_text("pages 2-3")
        # Only what the shop's printer can do is offered.
        assert page.locator("#opt-media option").all_inner_texts() == ["A4", "A3"]
        # The itemised price (pricing.js, the kiosk's rules): thesis.pdf pages 2-3, two
        # copies, double-sided colour A4 = 2 sheets x €0.80; photo.png = 1 sheet x €0.80.
        expect(page.locator("#order-lines .price-lines")).to_contain_text("thesis.pdf€1.60")
        expect(page.locator("#order-lines .summary-price")).to_have_text("Total: €2.40")
        price_text = page.locator("#order-lines .summary-price").inner_text()
        expect(page.locator("#send-button")).to_be_enabled()
        assert not any("/api/jobs" in r for r in requests)  # nothing leaves before Send
        page.locator("#order-box").scroll_into_view_if_needed()
        assert axe_violations(page) == []
        shot(page, size, "03-order-ready")

        page.click("#send-button")
        expect(page.locator("#status-view")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/j/[A-Za-z0-9_-]+#t=[A-Za-z0-9_=-]+&s="))
        job_id = page.url.split("/j/", 1)[1].split("#", 1)[0]
        job = kiosk.get_job(job_id)
        expect(page.locator("#job-code")).to_have_text(job.job_code)
        expect(page.locator("#status-line")).to_contain_text("Waiting for the shop")
        expect(page.locator("#summary")).to_contain_text("thesis.pdf")
        expect(page.locator("#summary")).to_contain_text("Colour")
        expect(page.locator("#summary .summary-price")).to_have_text(price_text)  # from the tab's memory
        total = price_text.split(": ", 1)[1]
        expect(page.locator("#pay-line")).to_have_text(f"Pay {total} at the counter; show code {job.job_code}")
        link = page.locator("#status-link").input_value()
        assert link.startswith(f"{bridge.url}/j/{job_id}#t=")
        assert axe_violations(page) == []
        shot(page, size, "04-sent-waiting")

        # PUT bodies stay under 1,000,000 bytes (nginx's default body limit is 1 MiB).
        puts = [r for r in requests if r.startswith("PUT ")]
        assert len(puts) >= 3
        # The token never travelled in a URL the browser requested.
        token = link.split("#t=", 1)[1].split("&", 1)[0]
        assert not any(token in r for r in requests)
        assert files_containing(relay.data_dir, MARKER) == []

        opened = kiosk.open_job(job_id)
        assert opened.files == [pdf, photo]

        # The status link works in another tab (a fresh context: no sessionStorage).
        other = new_page(context.browser.new_context(viewport={"width": PHONES[size][0], "height": PHONES[size][1]}))
        other.goto(link)
        expect(other.locator("#job-code")).to_have_text(job.job_code)
        expect(other.locator("#status-line")).to_contain_text("Waiting for the shop")
        expect(other.locator("#status-shop")).to_contain_text("Corner Copy")
        shot(other, size, "05-status-link-other-tab")

        kiosk.update(job_id, common_pb2.JOB_STATE_RECEIVED)
        expect(page.locator("#status-line")).to_have_text("Received by the shop.")
        expect(other.locator("#status-line")).to_have_text("Received by the shop.")
        assert axe_violations(page) == []
        kiosk.update(job_id, common_pb2.JOB_STATE_PRINTING)
        expect(page.locator("#status-line")).to_have_text("Printing now…")
        assert axe_violations(page) == []
        shot(page, size, "06-printing")
        kiosk.complete(job_id)
        expect(page.locator("#status-line")).to_have_text("Done. Your prints are ready.")
        expect(page.locator("#send-another")).to_be_visible()
        assert axe_violations(page) == []
        shot(page, size, "07-done")
        other.context.close()

        assert page.evaluate("() => window.__cspViolations") == []
        assert [p for p in page.problems if "favicon" not in p] == []
