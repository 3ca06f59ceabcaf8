"""A job received but not printing yet learns why it waits when its printer stops (issue 19 item 2)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cloudtab.v1 import common_pb2

import envelope
from envelope.receipt import Receipt, verify_receipt
from kiosk.core.demo import sample_pdf
from kiosk.core.jobs import LocalState
from kiosk.core.printing import PdfFolderPrinter
from kiosk.core.service import KioskCore
from tests.fixtures.faults import Customer, PlainFile
from tests.kiosk.test_core_relay import job_in, wait_for

READY = {"printer-state": [3], "printer-state-reasons": ["none"]}
OUT_OF_PAPER = {"printer-state": [3], "printer-state-reasons": ["media-empty-report"]}


class FedPrinter(PdfFolderPrinter):
    """The demo printer with a health feed the test sets (what Get-Printer-Attributes would say)."""

    attributes: dict[str, list[Any]] = READY

    def printer_attributes(self) -> dict[str, list[Any]]:
        return self.attributes


def _verifies(shop: common_pb2.Shop, job: common_pb2.Job, sealed_manifest: bytes, wait: str) -> bool:
    statement = job.kiosk_statement
    receipt = Receipt(
        job.job_id,
        "received",
        statement.sign_time.ToMilliseconds(),
        hashlib.sha256(sealed_manifest).digest(),
        wait_reason=wait,
        detail_sha256=hashlib.sha256(statement.sealed_detail).digest(),
    )
    return any(verify_receipt(k.signing_key, receipt, statement.signature) for k in shop.kiosk_keys)


def test_received_job_gets_the_wait_reason_with_its_detail_and_signature_kept(relay: Any, tmp_path: Path) -> None:
    slug, code = relay.add_shop("Waiting Copy")
    channel = relay.channel()
    customer = Customer(channel)
    printer = FedPrinter(tmp_path / "out")
    core = KioskCore(tmp_path / "kiosk", printer=printer)
    core.health_poll = 3600.0  # the test polls by hand
    page_key = envelope.generate_private_key()
    try:
        core.enroll(relay.address, code)
        core.start()
        sent = customer.send(
            slug,
            [PlainFile("a.pdf", "application/pdf", sample_pdf(1))],
            reply_key=envelope.public_key_bytes(page_key),
        )
        wait_for(job_in(core, sent.job_id, LocalState.READY), what="job ready")
        received = wait_for(
            lambda: (j := customer.get(sent)).state == common_pb2.JOB_STATE_RECEIVED and j, what="received"
        )
        detail = json.loads(envelope.open_reply(received.kiosk_statement.sealed_detail, page_key, sent.job_id))
        assert "amount_due" in detail
        shop = customer.shop(slug)

        printer.attributes = OUT_OF_PAPER
        core.poll_printers()
        waiting = customer.get(sent)
        assert waiting.state == common_pb2.JOB_STATE_RECEIVED
        assert waiting.kiosk_statement.wait_reason == common_pb2.WAIT_REASON_PRINTER_OUT_OF_PAPER
        # the relay keeps only the latest statement: the sealed amount due and a valid signature are still there
        sealed = waiting.kiosk_statement.sealed_detail
        assert json.loads(envelope.open_reply(sealed, page_key, sent.job_id)) == detail
        assert _verifies(shop, waiting, sent.sealed_manifest, "printer_out_of_paper")
        sequence = customer.get(sent).kiosk_statement.sign_time.ToMilliseconds()
        core.poll_printers()  # no change, no new event
        assert customer.get(sent).kiosk_statement.sign_time.ToMilliseconds() == sequence

        printer.attributes = READY
        core.poll_printers()
        cleared = customer.get(sent)
        assert cleared.state == common_pb2.JOB_STATE_RECEIVED and not cleared.kiosk_statement.wait_reason
        assert json.loads(envelope.open_reply(cleared.kiosk_statement.sealed_detail, page_key, sent.job_id)) == detail
        assert _verifies(shop, cleared, sent.sealed_manifest, "")
    finally:
        core.stop()
        channel.close()
