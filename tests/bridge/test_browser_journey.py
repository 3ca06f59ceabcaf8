"""The customer's whole journey in headless Chromium on a phone, against a real relay.

Two files with options are encrypted in the page, uploaded through the bridge, and
followed live while the test's kiosk marks the job received, printing and completed;
the kiosk decrypts the files (they equal the originals) and reads the options. The
relay's stored bytes never contain the plaintext.
"""

from __future__ import annotations

import os
import re
from typing import Any

from cloudtab.v1 import common_pb2
from playwright.sync_api import expect

from tests.bridge.docs import pdf_bytes, png_bytes
from tests.bridge.live import files_containing, shot

MARKER = b"CLOUDTAB-PLAINTEXT-MARKER-7f3a"


def _pdf_bytes(size: int) -> bytes:
    return pdf_bytes(4, MARKER, pad_to=size)


def _png_bytes(size: int) -> bytes:
    return png_bytes(400, 300) + b"\n" + MARKER + os.urandom(size)


def test_whole_journey_on_a_phone(bridge: Any, kiosk: Any, relay: Any, phone: Any) -> None:
    page = phone
    pdf = _pdf_bytes(2_500_000)  # several upload chunks
    png = _png_bytes(70_000)  # two records
    response = page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
    assert response is not None and response.status == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
    expect(page.locator("#shop-name")).to_have_text("Corner Copy")
    expect(page.locator("#fingerprint")).to_have_text(kiosk.keyset_display)
    expect(page.locator("#key-explain")).to_contain_text("QR code")
    expect(page.locator("#send-button")).to_be_disabled()
    shot(page, "01-shop-page")

    requests: list[str] = []
    page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
    page.set_input_files(
        "#file-input",
        files=[
            {"name": "thesis.pdf", "mimeType": "application/pdf", "buffer": pdf},
            {"name": "photo.png", "mimeType": "image/png", "buffer": png},
        ],
    )
    expect(page.locator("#file-list li")).to_have_count(2)
    for row in range(2):  # per-file copies
        page.locator("#file-list li").nth(row).locator(".file-opts input[type=number]").fill("2")
    page.select_option("#opt-color", "color")
    page.select_option("#opt-sides", "two-sided-long-edge")
    page.select_option("#opt-media", "Letter")
    page.fill("#customer-name", "Ada L.")
    page.fill("#customer-note", "Staple please")
    expect(page.locator("#send-button")).to_be_enabled()
    shot(page, "02-files-and-options")
    assert not any("/api/jobs" in r for r in requests)  # nothing leaves before Send

    page.click("#send-button")
    expect(page.locator("#status-view")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/j/[A-Za-z0-9_-]+#t="))
    job_id = page.url.split("/j/", 1)[1].split("#", 1)[0]
    job = kiosk.get_job(job_id)
    expect(page.locator("#job-code")).to_have_text(job.job_code)
    expect(page.locator("#job-qr")).to_be_visible()
    expect(page.locator("#status-line")).to_contain_text("Waiting for the shop")
    expect(page.locator("#status-view")).to_have_attribute("data-live", "live")  # SSE works
    shot(page, "03-sent-waiting")

    # The relay holds ciphertext only: no plaintext marker anywhere in its data folder.
    assert list((relay.data_dir / "blobs").rglob("*")), "the relay stored no blobs?"
    assert files_containing(relay.data_dir, MARKER) == []
    assert not any(MARKER.decode() in line for line in relay.log_text().splitlines())
    # No requested URL carried the token (it is only in the fragment), and the customer's
    # words never went out in clear.
    token = page.url.split("#t=", 1)[1].split("&", 1)[0]
    token_like = [r for r in requests if "token" in r.lower() or token in r or "Ada" in r]
    assert token_like == []

    opened = kiosk.open_job(job_id)
    assert opened.files == [pdf, png]
    m = opened.manifest
    assert [f.name for f in m.files] == ["thesis.pdf", "photo.png"]
    assert [f.type for f in m.files] == ["application/pdf", "image/png"]
    assert (m.options.color, m.options.sides, m.options.media) == ("color", "two-sided-long-edge", "Letter")
    assert [(f.copies, f.page_ranges) for f in m.files] == [(2, ""), (2, "")]
    assert (m.customer.name, m.customer.note) == ("Ada L.", "Staple please")

    kiosk.update(job_id, common_pb2.JOB_STATE_RECEIVED)
    expect(page.locator("#status-line")).to_have_text("Received by the shop.")
    expect(page.locator('#steps li[data-step="received"]')).to_have_class(re.compile("done"))
    shot(page, "04-received")
    kiosk.update(job_id, common_pb2.JOB_STATE_PRINTING)
    expect(page.locator("#status-line")).to_have_text("Printing now…")
    shot(page, "05-printing")
    kiosk.complete(job_id)
    expect(page.locator("#status-line")).to_have_text("Done. Your prints are ready.")
    shot(page, "06-done")

    page.reload()  # the tab keeps the job (sessionStorage and the link's fragment)
    expect(page.locator("#status-line")).to_have_text("Done. Your prints are ready.")
    expect(page.locator("#job-code")).to_have_text(job.job_code)
    assert files_containing(relay.data_dir, MARKER) == []

    assert page.evaluate("() => window.__cspViolations") == []
    # no inline script but the import map (its hash is in the CSP)
    assert page.evaluate(
        '() => [...document.scripts].every((s) => s.type === "importmap" || (s.src && !s.text.trim()))'
    )
    assert [p for p in page.problems if "favicon" not in p] == []
