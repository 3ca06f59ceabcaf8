"""The customer's page checks the kiosk's signature on every state the kiosk sets.

The bridge is fed by a forging relay (a test double of the relay: the page, the bridge and
the envelope are real, the relay is replaced by one that writes whatever events it
likes). The page sends a job under the shop's key set (#f=); then the relay claims the
job's states with the kiosk's real signatures, with no signature, and with a wrong one.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cloudtab.v1 import common_pb2, customer_jobs_pb2
from playwright.sync_api import expect
from werkzeug.serving import make_server

import envelope
from envelope.keyset import KioskRecord, encode_fingerprint, keyset_fingerprint
from envelope.receipt import Receipt, sign_receipt
from kiosk.core import reply
from kiosk.core.reasons import RejectReason
from tests.bridge.docs import png_bytes
from tests.bridge.fake_relay import FakeRelay, _Call
from web_bridge import create_app
from web_bridge.relay_client import WatchStream

SIZE = "360x740"
State = common_pb2.JobState.ValueType
Script = Callable[[common_pb2.Job], list[tuple[State, common_pb2.KioskStatement | None]]]


class ForgingRelay(FakeRelay):
    """A relay whose job events come from ``script`` (the job as submitted -> events)."""

    def __init__(self) -> None:
        super().__init__()
        self.script: Script = lambda job: []

    def watch_job(self, token: str, job_id: str, after_sequence: int, max_seconds: float) -> WatchStream:
        self._check("WatchJob")
        job = self._job("WatchJob", token, job_id)
        items = [customer_jobs_pb2.WatchJobResponse(heartbeat=common_pb2.Heartbeat(latest_sequence=after_sequence))]
        for seq, (state, statement) in enumerate(self.script(job.job), start=1):
            snapshot = common_pb2.Job()
            snapshot.CopyFrom(job.job)
            snapshot.ClearField("sealed_manifest")
            snapshot.state = state
            if statement is not None:
                snapshot.kiosk_statement.CopyFrom(statement)
            items.append(customer_jobs_pb2.WatchJobResponse(event=common_pb2.JobEvent(sequence=seq, job=snapshot)))
        call = _Call(items)
        return WatchStream(responses=iter(call), call=call)  # type: ignore[arg-type]


class Shop:
    """The shop's kiosk keys (the private halves stay in the test, as on a kiosk)."""

    def __init__(self, relay: ForgingRelay) -> None:
        self.key = envelope.generate_private_key()
        self.signer = envelope.generate_private_key()
        public = envelope.public_key_bytes(self.key)
        signing = envelope.public_key_bytes(self.signer)
        shop = relay.add_shop("corner")
        shop.public_key = public
        shop.key_fingerprint = hashlib.sha256(public).digest()
        shop.kiosk_keys.add(
            label="Counter 1", public_key=public, signing_key=signing, key_fingerprint=shop.key_fingerprint
        )
        self.fragment = encode_fingerprint(keyset_fingerprint([KioskRecord(public, signing)]))
        self.key_param = base64.urlsafe_b64encode(public).rstrip(b"=").decode()

    def statement(
        self, job: common_pb2.Job, state: str, key: Any = None, signed_state: str | None = None
    ) -> common_pb2.KioskStatement:
        """A statement signed over ``signed_state`` (default ``state``) with ``key`` (default the kiosk's)."""
        out = common_pb2.KioskStatement()
        out.sign_time.GetCurrentTime()
        out.sign_time.FromMilliseconds(out.sign_time.ToMilliseconds())
        receipt = Receipt(
            job.job_id,
            signed_state or state,
            out.sign_time.ToMilliseconds(),
            hashlib.sha256(job.sealed_manifest).digest(),
        )
        out.signature = sign_receipt(key or self.signer, receipt)
        return out


@pytest.fixture
def forged() -> Iterator[tuple[str, ForgingRelay, Shop]]:
    relay = ForgingRelay()
    shop = Shop(relay)
    server = make_server(
        "127.0.0.1", 0, create_app({"RELAY_CLIENT": relay, "JOB_CREATE_LIMIT": "100 per minute"}), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", relay, shop
    finally:
        server.shutdown()
        server.server_close()


def _open_status(context: Any, link: str) -> Any:
    from tests.bridge.page_helpers import new_page

    page = new_page(context)
    page.goto(link)
    expect(page.locator("#status-view")).to_be_visible()
    return page


def test_page_confirms_signed_states_and_warns_on_forged_ones(forged: Any, chromium_browser: Any) -> None:
    from tests.bridge.page_helpers import new_page, phone_context, shot

    url, relay, shop = forged
    Q, R, P, C = (
        common_pb2.JOB_STATE_QUEUED,
        common_pb2.JOB_STATE_RECEIVED,
        common_pb2.JOB_STATE_PRINTING,
        common_pb2.JOB_STATE_COMPLETED,
    )
    relay.script = lambda job: [
        (Q, None),
        (R, shop.statement(job, "received")),
        (P, shop.statement(job, "printing")),
        (C, shop.statement(job, "completed")),
    ]
    with phone_context(chromium_browser, SIZE) as context:
        page = new_page(context)
        page.goto(f"{url}/s/corner#f={shop.fragment}")
        expect(page.locator("#key-box")).to_have_class("key-box verified")
        page.set_input_files(
            "#file-input", files=[{"name": "flyer.png", "mimeType": "image/png", "buffer": png_bytes(300, 200)}]
        )
        expect(page.locator("#file-list li")).to_have_attribute("data-pages", "1")
        page.click("#send-button")
        receipt = page.locator("#receipt")
        expect(page.locator("#status-view")).to_have_attribute("data-state", "completed")
        expect(receipt).to_have_attribute("data-receipt", "confirmed")
        expect(receipt).to_contain_text("Confirmed by the shop's kiosk")
        shot(page, SIZE, "receipt-confirmed")
        link = page.locator("#status-link").input_value() if page.locator("#status-link").count() else ""
        job_id = page.url.split("/j/", 1)[1].split("#", 1)[0]
        record = page.evaluate(f"() => JSON.parse(sessionStorage.getItem('cloudtab.job.{job_id}'))")
        link = f"{url}/j/{job_id}#t={record['token']}&s=corner&f={record['setParam']}&m={record['manifestHash']}"
        assert page.problems == []

        # The relay forges COMPLETED without the kiosk's signature.
        relay.script = lambda job: [(R, shop.statement(job, "received")), (C, None)]
        page = _open_status(context, link)
        expect(page.locator("#status-view")).to_have_attribute("data-state", "completed")
        expect(page.locator("#receipt")).to_have_attribute("data-receipt", "unsigned")
        expect(page.locator("#receipt")).to_contain_text("did not sign this status")
        shot(page, SIZE, "receipt-unsigned")

        # ... with its own key, and with the kiosk's real signature of another state.
        relay_key = envelope.generate_private_key()
        for statement in (
            lambda job: shop.statement(job, "completed", key=relay_key),
            lambda job: shop.statement(job, "completed", signed_state="received"),
        ):
            relay.script = lambda job, s=statement: [(C, s(job))]  # type: ignore[misc]
            page = _open_status(context, link)
            expect(page.locator("#status-view")).to_have_attribute("data-state", "completed")
            expect(page.locator("#receipt")).to_have_attribute("data-receipt", "forged")
        expect(page.locator("#receipt")).to_contain_text("not the shop's kiosk's")
        shot(page, SIZE, "receipt-forged")

        # A link without the key set (an old #k= poster's job) cannot be checked.
        relay.script = lambda job: [(C, shop.statement(job, "completed"))]
        page = _open_status(context, link.split("&f=", 1)[0])
        expect(page.locator("#receipt")).to_have_attribute("data-receipt", "unchecked")


def test_real_relay_forwards_the_kiosks_signatures(bridge: Any, kiosk: Any, chromium_browser: Any) -> None:
    """Relay and bridge real: the kiosk's signed states reach the page, which confirms them."""
    from tests.bridge.page_helpers import new_page, phone_context

    with phone_context(chromium_browser, SIZE) as context:
        page = new_page(context)
        page.goto(f"{bridge.url}/s/{kiosk.slug}#f={kiosk.set_param}")
        expect(page.locator("#key-box")).to_have_class("key-box verified")
        expect(page.locator("#fingerprint")).to_have_text(kiosk.keyset_display)
        page.set_input_files(
            "#file-input", files=[{"name": "a.png", "mimeType": "image/png", "buffer": png_bytes(50, 50)}]
        )
        expect(page.locator("#file-list li")).to_have_attribute("data-pages", "1")
        page.click("#send-button")
        expect(page.locator("#status-view")).to_have_attribute("data-state", "queued")
        job_id = page.url.split("/j/", 1)[1].split("#", 1)[0]
        kiosk.open_job(job_id)
        # The kiosk's amount due, sealed to the page, reaches the pay line (payment.js); the
        # signature covers the sealed detail too (its SHA-256), as the page checks it.
        manifest = envelope.open_manifest(kiosk.get_job(job_id).sealed_manifest, kiosk.private_key, job_id)
        assert manifest.reply_key is not None
        due = reply.seal(reply.Detail(amount_due=(235, "EUR")), manifest.reply_key, job_id)
        kiosk.update(job_id, common_pb2.JOB_STATE_RECEIVED, due)
        expect(page.locator("#receipt")).to_have_attribute("data-receipt", "confirmed")
        expect(page.locator("#pay-line")).to_contain_text("€2.35")
        sealed = reply.seal(reply.Detail(reason=RejectReason.PRINTER, note="Out of A3"), manifest.reply_key, job_id)
        kiosk.reject(job_id, "printer", sealed)
        expect(page.locator("#status-view")).to_have_attribute("data-state", "rejected")
        expect(page.locator("#receipt")).to_have_attribute("data-receipt", "confirmed")
        expect(page.locator("#reply-detail li")).to_have_text(["Note from the shop: Out of A3"])
        assert page.problems == []
