"""Details sealed by the kiosk (kiosk.core.reply) open in the customer's page (reply.js).

One real-Chromium round trip: the page makes its reply key and keeps it in the
tab's job store, the kiosk's Python seals a detail to it, and after a reload
the page still opens it and words it ("File 2: page 4299 does not exist");
the same bytes under another job id do not open.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.core import reply
from kiosk.core.reasons import RejectReason
from tests.fixtures.browser import StaticServer

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "web_bridge" / "static" / "js"
HERE = Path(__file__).resolve().parent
MODULES = ("reply", "envelope", "hpke", "sha256", "i18n", "store")


@pytest.fixture(scope="module")
def reply_url() -> Iterator[str]:
    routes = {"/": HERE / "reply_harness.html", "/reply_harness.js": HERE / "reply_harness.js"}
    routes.update({f"/js/{name}.js": JS / f"{name}.js" for name in MODULES})
    with StaticServer(routes) as server:
        yield server.url + "/"


def _ready(page: Any, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-ready", "1")


def test_kiosk_detail_opens_in_the_page_after_a_reload(browser_page: Any, reply_url: str) -> None:
    job_id = "job-reply-1"
    _ready(browser_page, reply_url)
    public = browser_page.evaluate(
        """async (jobId) => {
          const { reply, store } = window.cloudtabReply;
          store.saveJob({ jobId, state: "queued" });
          const first = await reply.replyPublicKey(jobId);
          const again = await reply.replyPublicKey(jobId);  // kept, not made anew
          return [Array.from(first), Array.from(again)];
        }""",
        job_id,
    )
    assert public[0] == public[1] and len(public[0]) == 65 and public[0][0] == 4
    detail = reply.Detail(
        reason=RejectReason.PAGES,
        file=2,
        page=4299,
        file_pages=1,
        files=(reply.FilePages(3), reply.FilePages(12, converted=True)),
        amount_due=(120, "EUR"),
        note="Bitte am Schalter nachfragen",
    )
    sealed = reply.seal(detail, bytes(public[0]), job_id)
    sealed_b64 = base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    _ready(browser_page, reply_url)  # a reload: the key comes back from the tab's job store
    result = browser_page.evaluate(
        """async ([jobId, sealed]) => {
          const { reply } = window.cloudtabReply;
          const detail = await reply.openDetail(jobId, sealed);
          const other = await reply.openDetail("job-reply-2", sealed);
          return { detail, lines: reply.detailLines(detail), other, words: reply.reasonWords(detail.reason) };
        }""",
        [job_id, sealed_b64],
    )
    assert result["other"] is None
    assert result["detail"]["reason"] == "pages" and result["detail"]["page"] == 4299
    assert result["detail"]["amount_due"] == {"cents": 120, "currency": "EUR"}  # for payment.js's pay line
    assert result["lines"] == [
        "File 2: page 4299 does not exist; the file's last page is 1.",
        "File 2 was converted to PDF by the shop; pages: 12.",
        "Note from the shop: Bitte am Schalter nachfragen",
    ]
    assert result["words"].startswith("The pages you asked for are not in the document.")
