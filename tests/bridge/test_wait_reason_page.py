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


def test_status_states_fit_a_320_px_phone(forged: Any, chromium_browser: Any) -> None:  # noqa: F811
    """Each status state the kiosk's statements make, on a 320-px touch phone: nothing wider than the
    screen and no serious axe-core finding (waiting with a printer reason, pay at the counter with a
    converted file priced at the counter, rejected with the sealed detail, a signature that fails)."""
    import hashlib

    import envelope
    from kiosk.core import reply
    from kiosk.core.reasons import RejectReason
    from tests.bridge.page_helpers import axe_violations, new_page, no_overflow, phone_context, shot

    url, relay, shop = forged

    def sealed(job: common_pb2.Job, state: str, detail: reply.Detail, reason: str = "") -> common_pb2.KioskStatement:
        key = envelope.open_manifest(job.sealed_manifest, shop.key, job.job_id).reply_key
        out = common_pb2.KioskStatement(sealed_detail=reply.seal(detail, key, job.job_id))
        out.sign_time.FromMilliseconds(1_790_000_000_000)
        receipt = Receipt(
            job.job_id,
            state,
            1_790_000_000_000,
            hashlib.sha256(job.sealed_manifest).digest(),
            reason,
            "",
            hashlib.sha256(out.sealed_detail).digest(),
        )
        out.signature = sign_receipt(shop.signer, receipt)
        return out

    def rejected(job: common_pb2.Job) -> list[Any]:
        job.reason = "unsupported"
        detail = reply.Detail(reason=RejectReason.UNSUPPORTED, file=1, note="We are out of A3 paper, sorry")
        return [(common_pb2.JOB_STATE_REJECTED, sealed(job, "rejected", detail, "unsupported"))]

    pay = reply.Detail(amount_due=(1250, "EUR"), files=reply.file_pages([12], [True]))
    states = {
        "waiting-printer": lambda job: [
            (common_pb2.JOB_STATE_PRINTING, _statement(shop, job, "printing", "printer_out_of_paper"))
        ],
        "pay-at-counter": lambda job: [(common_pb2.JOB_STATE_PRINTING, sealed(job, "printing", pay))],
        "rejected-sealed": rejected,
        "signature-warning": lambda job: [
            (common_pb2.JOB_STATE_COMPLETED, shop.statement(job, "completed", key=envelope.generate_private_key()))
        ],
    }
    name_state = {
        "waiting-printer": "printing",
        "pay-at-counter": "printing",
        "rejected-sealed": "rejected",
        "signature-warning": "completed",
    }
    with phone_context(chromium_browser, "320x640") as context:
        page = new_page(context)
        for name, script in states.items():
            relay.script = script  # type: ignore[assignment]
            page.goto(f"{url}/s/corner#f={shop.fragment}")
            page.set_input_files(
                "#file-input",
                files=[{"name": "quarterly-report-final-v2.png", "mimeType": "image/png", "buffer": png_bytes(60, 40)}],
            )
            expect(page.locator("#file-list li")).to_have_attribute("data-pages", "1")
            page.click("#send-button")
            expect(page.locator("#status-view")).to_have_attribute("data-state", name_state[name])
            page.wait_for_timeout(400)
            shot(page, "320x640", f"status-{name}")
            assert no_overflow(page), name
            assert axe_violations(page) == [], name
