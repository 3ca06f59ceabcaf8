"""The customer's page shows the shop key as the same six words the kiosk derives
(shared vectors, tests/data/key_words_vectors.json), and other words for another key."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

import envelope
from envelope.keyset import KioskRecord, keyset_fingerprint
from envelope.words import digest_words
from tests.bridge.page_helpers import new_page, phone_context

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests" / "data" / "key_words_vectors.json").read_text())["vectors"]


def _param(public_key: bytes) -> str:
    return base64.urlsafe_b64encode(public_key).rstrip(b"=").decode()


def test_page_shows_the_kiosk_words_and_other_words_for_another_key(
    bridge: Any, kiosk: Any, chromium_browser: Any
) -> None:
    shop_words = " ".join(digest_words(kiosk.keyset_fingerprint))
    other = envelope.public_key_bytes(envelope.generate_private_key())
    other_words = " ".join(digest_words(keyset_fingerprint([KioskRecord(other)])))
    assert shop_words != other_words
    with phone_context(chromium_browser, "360x740") as context:
        page = new_page(context)
        page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
        expect(page.locator("#key-words")).to_have_text(shop_words)
        expect(page.locator("#fingerprint")).to_have_text(kiosk.keyset_display)
        # The JS derivation on every shared vector.
        derived = page.evaluate(
            """async (vectors) => {
                const { fingerprintWords } = await import("/static/js/keywords.js");
                const { parsePublicKey } = await import("/static/js/envelope.js");
                const out = [];
                for (const v of vectors) out.push(await fingerprintWords(await parsePublicKey(v.public_key)));
                return out;
            }""",
            VECTORS,
        )
        assert derived == [v["words"] for v in VECTORS]
        assert page.problems == []

        page = new_page(context)
        page.goto(f"{bridge.url}/s/{kiosk.slug}#f={kiosk.set_param}")
        expect(page.locator("#key-words")).to_have_text(shop_words)
        expect(page.locator("#key-box")).to_have_class("key-box verified")

        page = new_page(context)
        page.goto(f"{bridge.url}/s/{kiosk.slug}#k={_param(other)}")
        expect(page.locator("#key-words")).to_have_text(other_words)
        expect(page.locator("#key-error")).to_be_visible()
