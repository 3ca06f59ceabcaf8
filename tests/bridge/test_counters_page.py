"""The customer's page seals a job to every counter of the shop it can trust.

Real relay (a second kiosk enrolled with `cloudtab-relay shop code --kiosk`), real bridge,
the page in Chromium. Under the shop's key set (#f= over both kiosks) the page writes a
multi-recipient manifest (docs/envelope.md §5.2) that either kiosk opens; an old poster of
one counter (#k=<its key>) gets a job only that counter can open.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

import envelope
from envelope.keyset import KioskRecord, encode_fingerprint, keyset_fingerprint
from tests.bridge.docs import png_bytes
from tests.bridge.live import Kiosk

SIZE = "360x740"


def _send(context: Any, url: str) -> str:
    from tests.bridge.page_helpers import new_page

    page = new_page(context)
    page.goto(url)
    expect(page.locator("#key-box")).to_have_class("key-box verified")
    page.set_input_files("#file-input", files=[{"name": "a.png", "mimeType": "image/png", "buffer": png_bytes(40, 40)}])
    expect(page.locator("#file-list li")).to_have_attribute("data-pages", "1")
    page.click("#send-button")
    expect(page.locator("#status-view")).to_have_attribute("data-state", "queued")
    assert page.problems == []
    return page.url.split("/j/", 1)[1].split("#", 1)[0]


def test_page_seals_to_every_trusted_counter(bridge: Any, kiosk: Any, relay: Any, chromium_browser: Any) -> None:
    from tests.bridge.page_helpers import phone_context

    out = relay.cli("shop", "code", kiosk.slug, "--kiosk", "Counter 2", "--json")
    second = Kiosk(relay.address, json.loads(out.strip().splitlines()[-1])["enrollment_code"])
    try:
        records = [KioskRecord(k.public_key, k.signing_public_key) for k in (kiosk, second)]
        set_param = encode_fingerprint(keyset_fingerprint(records))
        with phone_context(chromium_browser, SIZE) as context:
            job_id = _send(context, f"{bridge.url}/s/{kiosk.slug}#f={set_param}")
            sealed = kiosk.get_job(job_id).sealed_manifest
            assert envelope.recipients(sealed) == [envelope.fingerprint(k.public_key) for k in (kiosk, second)]
            for counter in (kiosk, second):
                assert counter.open_job(job_id).files[0] == png_bytes(40, 40)

            # An old poster of counter 2 pins its key alone: only counter 2 can open the job.
            job_id = _send(context, f"{bridge.url}/s/{kiosk.slug}#k={second.key_param}")
            assert second.open_job(job_id).files[0] == png_bytes(40, 40)
            with pytest.raises(envelope.WrongKeyError):
                kiosk.open_job(job_id)
    finally:
        second.close()
