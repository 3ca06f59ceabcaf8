"""The customer's page says why a taken job waits (KioskStatement.wait_reason), in its own words.

Bridge, page and envelope real; the relay is the receipts test's forging relay, which
replays a job's states with the kiosk's signed statements (here: printing, then the
shop's printer out of paper, then printing on).
"""

from __future__ import annotations

from typing import Any

from cloudtab.v1 import common_pb2
from playwright.sync_api import expect

from envelope.receipt import Receipt, sign_receipt
from tests.bridge.docs import png_bytes
from tests.bridge.test_receipts_page import SIZE, forged  # noqa: F401  (fixture)

WAITS = {
    "printer_out_of_paper": "The shop's printer is out of paper; your job is next.",
    "printing_slow": "Printing is taking longer than usual.",
}


def _statement(shop: Any, job: common_pb2.Job, state: str, wait: str) -> common_pb2.KioskStatement:
    """A statement with a wait reason, signed by the shop's kiosk like kiosk/core/relay.py does."""
    import hashlib

    out = common_pb2.KioskStatement(wait_reason=common_pb2.WaitReason.Value("WAIT_REASON_" + wait.upper()))
    out.sign_time.FromMilliseconds(1_790_000_000_000)
    signed_wait = "" if wait == "unspecified" else wait  # as kiosk/core/relay.py signs it
    receipt = Receipt(
        job.job_id, state, 1_790_000_000_000, hashlib.sha256(job.sealed_manifest).digest(), "", signed_wait
    )
    out.signature = sign_receipt(shop.signer, receipt)
    return out


def test_page_shows_why_the_job_waits(forged: Any, chromium_browser: Any) -> None:  # noqa: F811
    from tests.bridge.page_helpers import new_page, phone_context, shot

    url, relay, shop = forged
    P = common_pb2.JOB_STATE_PRINTING
    with phone_context(chromium_browser, SIZE) as context:
        page = new_page(context)
        for wait, words in WAITS.items():
            relay.script = lambda job, w=wait: [  # type: ignore[misc]
                (common_pb2.JOB_STATE_RECEIVED, shop.statement(job, "received")),
                (P, _statement(shop, job, "printing", w)),
            ]
            page.goto(f"{url}/s/corner#f={shop.fragment}")
            page.set_input_files(
                "#file-input", files=[{"name": "a.png", "mimeType": "image/png", "buffer": png_bytes(60, 40)}]
            )
            expect(page.locator("#file-list li")).to_have_attribute("data-pages", "1")
            page.click("#send-button")
            view = page.locator("#status-view")
            expect(view).to_have_attribute("data-state", "printing")
            expect(view).to_have_attribute("data-wait", wait)
            expect(page.locator("#status-detail")).to_contain_text(words)
            expect(page.locator("#receipt")).to_have_attribute("data-receipt", "confirmed")
            if wait == "printer_out_of_paper":
                shot(page, SIZE, "wait-out-of-paper")
        # the reason taken back: the usual words again
        relay.script = lambda job: [(P, _statement(shop, job, "printing", "unspecified"))]
        page.goto(f"{url}/s/corner#f={shop.fragment}")
        page.set_input_files(
            "#file-input", files=[{"name": "b.png", "mimeType": "image/png", "buffer": png_bytes(60, 40)}]
        )
        page.click("#send-button")
        expect(page.locator("#status-view")).to_have_attribute("data-state", "printing")
        expect(page.locator("#status-detail")).to_have_text("Your pages are on their way.")
        assert page.problems == []
