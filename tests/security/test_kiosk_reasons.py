"""What the kiosk tells the relay when it declines a job on its own (docs/security.md T30).

Headless kiosk (auto-accept) against a real relay: a job asking for a page
that does not exist, a job whose second file is not a document and a job
whose only page pdfium cannot load are each rejected with a fixed code
(cloudtab_rpc.rejects). Which file and which page travel only sealed to the
page's reply key (kiosk.core.reply), where the customer opens them. No file
name or page number reaches the relay in clear (its job record, database file
or log), nor the kiosk's own log or terminal.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

import envelope
from kiosk.core import printing, reply
from kiosk.core.jobs import LocalState
from kiosk.core.reasons import RejectReason
from kiosk.core.service import KioskCore
from tests.fixtures.faults import Customer, PlainFile, scan_tree
from tests.security import hostile, pdfs

SECRET = "SECRET-NAME-7c1f"


def test_automatic_rejections_use_fixed_reasons(
    relay_procs: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    page_key = envelope.generate_private_key()
    reply_key = envelope.public_key_bytes(page_key)
    relay = relay_procs(name="reasons")
    slug, code = relay.add_shop("Reasons Shop")
    core = KioskCore(tmp_path / "kiosk", printer=printing.PdfFolderPrinter(tmp_path / "printed"), auto_accept=True)
    profile = core.enroll(relay.address, code)
    customer = Customer(relay.channel())
    pdf = pdfs.simple_pdf(b"one page")
    sent = {
        RejectReason.PAGES: customer.send(
            slug,
            [PlainFile(f"{SECRET}-a.pdf", "application/pdf", pdf, page_ranges="42997")],
            public_key=profile.public_key,
            reply_key=reply_key,
        ),
        RejectReason.UNSUPPORTED: customer.send(
            slug,
            [
                PlainFile("ok.pdf", "application/pdf", pdf),
                PlainFile(f"{SECRET}-b.pdf", "application/pdf", b"MZ\x90\x00 " + SECRET.encode()),
            ],
            public_key=profile.public_key,
            reply_key=reply_key,
        ),
        RejectReason.DAMAGED: customer.send(
            slug,
            [PlainFile(f"{SECRET}-c.pdf", "application/pdf", hostile.self_kid_page_tree())],
            public_key=profile.public_key,
            reply_key=reply_key,
        ),
    }
    core.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = {j.job_id: j.state for j in core.jobs()}
            if all(states.get(job.job_id) is LocalState.REJECTED for job in sent.values()):
                break
            time.sleep(0.1)
        errors = [j.error or "" for j in core.jobs()]
    finally:
        core.stop()
    # The relay holds nothing of the file names or the page asked for in clear (database, blobs, log).
    # Five digits: a four-digit needle can turn up by chance in the hex of a stored hash
    # (seen once in relay.db-wal under load, 1 run in 4).
    assert scan_tree(relay.data_dir, [SECRET.encode(), b"42997"]) == []
    assert SECRET not in relay.log_text() and "42997" not in relay.log_text()
    details = {}
    for reason, job in sent.items():
        stored = customer.get(job)
        assert stored.reason == reason.value, (reason, stored.reason)
        sealed = stored.kiosk_statement.sealed_detail
        details[reason] = reply.parse(envelope.open_reply(sealed, page_key, job.job_id))
    # Only the customer's page can read which file and page: here, with its reply key.
    assert details[RejectReason.PAGES] == reply.Detail(reason=RejectReason.PAGES, file=1, page=42997, file_pages=1)
    assert details[RejectReason.UNSUPPORTED] == reply.Detail(reason=RejectReason.UNSUPPORTED, file=2)
    assert details[RejectReason.DAMAGED].file == 1
    printed = capsys.readouterr()
    assert SECRET not in " ".join(errors) + caplog.text + printed.out + printed.err
    assert "42997" not in caplog.text + printed.out + printed.err
