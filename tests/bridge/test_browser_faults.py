"""The page under trouble: a lying relay, a dropped connection, a file too large,
a proxy that breaks event streams, and CSP enforcement."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from playwright.sync_api import expect

import envelope
from envelope.keys import format_fingerprint
from envelope.keyset import KioskRecord, keyset_fingerprint
from kiosk.core import reply
from kiosk.core.reasons import RejectReason
from tests.bridge.live import BridgeServer, Kiosk, shot


def _job_id(page: Any) -> str:
    """The job id of a status page URL (/j/<id>#t=...)."""
    return str(page.url.split("/j/", 1)[1].split("#", 1)[0])


def _job_requests(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(f"{r.method} {r.url}") if "/api/jobs" in r.url else None)
    return seen


def test_mismatched_fragment_key_blocks_upload(bridge: Any, kiosk: Any, phone: Any) -> None:
    page = phone
    other = envelope.public_key_bytes(envelope.generate_private_key())
    seen = _job_requests(page)
    page.goto(f"{bridge.url}/s/{kiosk.slug}#k={envelope.encode_public_key(other)}")
    expect(page.locator("#app")).to_have_attribute("data-ready", "refused")
    expect(page.locator("#key-error")).to_be_visible()
    expect(page.locator("#key-error")).to_contain_text("does not match")
    expect(page.locator("#fingerprint")).to_have_text(format_fingerprint(keyset_fingerprint([KioskRecord(other)])))
    expect(page.locator("#send-button")).to_be_disabled()
    expect(page.locator("#file-input")).to_be_disabled()
    shot(page, "07-key-mismatch")
    assert seen == []


def test_damaged_fragment_key_blocks_upload(bridge: Any, kiosk: Any, phone: Any) -> None:
    phone.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param[:-4]}AAAA")
    expect(phone.locator("#app")).to_have_attribute("data-ready", "refused")
    expect(phone.locator("#key-error")).to_be_visible()


@pytest.mark.parametrize("viewport", [(360, 740), (1280, 800)], ids=["phone", "desktop"])
def test_without_fragment_asks_to_compare(
    bridge: Any, kiosk: Any, chromium_browser: Any, viewport: tuple[int, int]
) -> None:
    context = chromium_browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        page = context.new_page()
        page.goto(f"{bridge.url}/s/{kiosk.slug}")
        expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
        expect(page.locator("#fingerprint")).to_have_text(kiosk.keyset_display)
        expect(page.locator("#key-explain")).to_contain_text("Compare")
        page.set_input_files(
            "#file-input",
            files=[{"name": "flyer.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff" + os.urandom(5000)}],
        )
        expect(page.locator("#send-button")).to_be_enabled()
        if viewport[0] > 1000:
            shot(page, "08-desktop-no-fragment")
        # Nothing is wider than the screen.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport[0]
    finally:
        context.close()


def test_too_large_file_is_refused_before_upload(relay_factory: Any, chromium_browser: Any) -> None:
    relay = relay_factory(name="small", args=("--max-file-bytes", "1000000"))
    slug, code = relay.add_shop("Tiny Prints")
    kiosk = Kiosk(relay.address, code)
    bridge = BridgeServer(relay.address)
    context = chromium_browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        seen = _job_requests(page)
        page.goto(f"{bridge.url}/s/{slug}#k={kiosk.key_param}")
        expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
        expect(page.locator("#limits-line")).to_contain_text("1 MB per file")
        page.set_input_files(
            "#file-input",
            files=[
                {"name": "small.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 ok"},
                {"name": "huge-scan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF" + bytes(1_200_000)},
            ],
        )
        expect(page.locator("#form-error")).to_contain_text("One file needs your attention")
        expect(page.locator("#file-list li.bad")).to_have_count(1)
        expect(page.locator("#file-list li.bad .file-problem")).to_contain_text(
            "Too large: this shop takes files up to 1 MB."
        )
        page.click("#send-button")
        expect(page.locator("#form-error")).to_contain_text("One file needs your attention")
        shot(page, "09-too-large")
        assert seen == []
        page.click("#file-list li.bad .remove")
        expect(page.locator("#form-error")).to_be_hidden()
    finally:
        context.close()
        bridge.close()
        kiosk.close()


def test_cut_connection_resumes_with_intact_bytes(bridge: Any, kiosk: Any, phone: Any) -> None:
    page = phone
    data = b"%PDF-1.4\n" + os.urandom(6_000_000)
    sealed_size = envelope.ciphertext_size(len(data))
    puts: list[tuple[str, int, str]] = []  # (what happened, body size, url)
    state = {"n": 0}
    down = threading.Event()

    def on_put(route: Any) -> None:
        state["n"] += 1
        n = state["n"]
        size = len(route.request.post_data_buffer or b"")
        url = route.request.url
        if n == 2:  # the relay commits, the answer is lost on the way back
            route.fetch()
            puts.append(("lost-answer", size, url))
            route.abort("connectionreset")
        elif n == 4:  # the request never arrives
            puts.append(("aborted", size, url))
            route.abort("connectionreset")
        elif n == 5:  # the bridge goes away for a moment
            puts.append(("bridge-down", size, url))
            bridge.stop()
            down.set()
            route.abort("connectionrefused")
        else:
            try:
                answer = route.fetch()
            except Exception:  # noqa: BLE001 (the bridge is down: the browser sees a refusal)
                puts.append(("refused", size, url))
                route.abort("connectionrefused")
                return
            puts.append(("reached", size, url))
            route.fulfill(response=answer)

    page.route("**/api/jobs/*/files/*", on_put)
    page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
    expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
    page.set_input_files("#file-input", files=[{"name": "big.pdf", "mimeType": "application/pdf", "buffer": data}])
    page.click("#send-button")
    for _ in range(600):  # let Playwright dispatch route events while we wait
        if down.is_set():
            break
        page.wait_for_timeout(50)
    assert down.is_set()
    expect(page.locator("#file-list .progress-text")).to_contain_text("reconnecting")
    expect(page.locator("#upload-line")).to_contain_text("Connection lost")
    page.wait_for_timeout(1500)  # a few refused retries while the bridge is away
    shot(page, "10-reconnecting")
    bridge.start()
    expect(page.locator("#status-view")).to_be_visible(timeout=60_000)
    job_id = _job_id(page)
    opened = kiosk.open_job(job_id)
    assert opened.files == [data]
    kinds = [k for k, _, _ in puts]
    assert {"lost-answer", "aborted", "bridge-down", "refused"} <= set(kinds), kinds
    # Resumed from the relay's committed offset, never restarted: every byte that
    # reached the bridge was sent once (no offset twice, the lost answer not resent).
    arrived = [(size, url) for kind, size, url in puts if kind in ("reached", "lost-answer")]
    urls = [url for _, url in arrived]
    assert len(urls) == len(set(urls)), urls
    assert sum(size for size, _ in arrived) == sealed_size


def test_status_falls_back_to_polling(bridge: Any, kiosk: Any, phone: Any) -> None:
    page = phone
    page.route("**/api/jobs/*/events*", lambda route: route.abort("connectionreset"))
    page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
    expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
    page.set_input_files(
        "#file-input", files=[{"name": "a.png", "mimeType": "image/png", "buffer": b"\x89PNG" + os.urandom(1000)}]
    )
    page.click("#send-button")
    expect(page.locator("#status-view")).to_have_attribute("data-live", "polling")
    job_id = _job_id(page)
    from cloudtab.v1 import common_pb2

    kiosk.update(job_id, common_pb2.JOB_STATE_RECEIVED)
    expect(page.locator("#status-line")).to_have_text("Received by the shop.", timeout=15_000)


def test_customer_can_cancel_after_sending(bridge: Any, kiosk: Any, phone: Any) -> None:
    page = phone
    page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
    expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
    page.set_input_files(
        "#file-input",
        files=[{"name": "a.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 " + os.urandom(3000)}],
    )
    page.click("#send-button")
    expect(page.locator("#cancel-job")).to_be_visible()
    page.click("#cancel-job")
    expect(page.locator("#confirm-withdraw")).to_be_visible()  # asks first
    page.click("#withdraw-no")
    expect(page.locator("#confirm-withdraw")).to_be_hidden()
    page.click("#cancel-job")
    page.click("#withdraw-yes")
    expect(page.locator("#status-line")).to_have_text("You withdrew this job.")
    job_id = _job_id(page)
    from cloudtab.v1 import common_pb2

    assert kiosk.get_job(job_id).state == common_pb2.JOB_STATE_CANCELLED


def test_csp_is_enforced(bridge: Any, kiosk: Any, phone: Any) -> None:
    page = phone
    response = page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
    assert page.evaluate("() => window.__cspViolations") == []
    html = page.content()
    assert "<script>" not in html and " onclick=" not in html
    # The policy really blocks: an injected inline script and a third-party image fail.
    page.evaluate("""() => {
        const s = document.createElement("script");
        s.textContent = "window.__inlineRan = true";
        document.body.append(s);
        const img = document.createElement("img");
        img.src = "http://third-party.invalid/pixel.png";
        document.body.append(img);
    }""")
    expect(page.locator("body")).to_be_visible()
    page.wait_for_function("() => window.__cspViolations.length >= 2")
    violations = page.evaluate("() => window.__cspViolations")
    assert any(v.startswith("script-src") for v in violations), violations
    assert any(v.startswith("img-src") for v in violations), violations
    assert page.evaluate("() => window.__inlineRan === undefined")


def test_rejected_job_shows_the_shops_reason(bridge: Any, kiosk: Any, phone: Any) -> None:
    page = phone
    page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
    expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
    page.set_input_files(
        "#file-input",
        files=[{"name": "a.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 " + os.urandom(3000)}],
    )
    page.click("#send-button")
    expect(page.locator("#status-view")).to_be_visible()
    job_id = _job_id(page)
    # The page put a reply key in the manifest; the shop seals which file and a note to it.
    manifest = envelope.open_manifest(kiosk.get_job(job_id).sealed_manifest, kiosk.private_key, job_id)
    assert manifest.reply_key is not None
    detail = reply.Detail(reason=RejectReason.UNSUPPORTED, file=1, note="We are out of A3 paper")
    kiosk.reject(job_id, "unsupported", reply.seal(detail, manifest.reply_key, job_id))
    expect(page.locator("#status-line")).to_have_text("The shop declined this job.")
    expect(page.locator("#status-detail")).to_contain_text("A file of this job is of a type this shop cannot print.")
    expect(page.locator("#reply-detail li")).to_have_text(
        ["File 1 is of a type this shop cannot print.", "Note from the shop: We are out of A3 paper"]
    )
    page.reload()  # the reply key and the opened detail stay with the tab's job
    expect(page.locator("#reply-detail li")).to_have_count(2)
    expect(page.locator("#send-another")).to_be_visible()
    shot(page, "11-rejected")


def test_cancel_during_upload_withdraws_the_job(bridge: Any, kiosk: Any, phone: Any) -> None:
    page = phone
    held: list[Any] = []

    def on_put(route: Any) -> None:
        if not held:  # the first chunk goes through, then the network "hangs"
            held.append(route)
            route.continue_()
        else:
            route.abort("connectionreset")

    page.route("**/api/jobs/*/files/*", on_put)
    page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
    expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
    page.set_input_files(
        "#file-input",
        files=[{"name": "big.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 " + os.urandom(3_000_000)}],
    )
    page.click("#send-button")
    expect(page.locator("#upload-line")).to_contain_text("Connection lost")
    page.click("#cancel-upload")
    expect(page.locator("#upload-line")).to_have_text("Upload cancelled. Nothing was sent to the shop.")
    expect(page.locator("#send-button")).to_be_enabled()
    job_id = page.evaluate("""() => Object.keys(sessionStorage)
        .filter((k) => k.startsWith("cloudtab.job.")).map((k) => k.slice(13))[0]""")
    from cloudtab.v1 import common_pb2

    for _ in range(100):
        if kiosk.get_job(job_id).state == common_pb2.JOB_STATE_CANCELLED:
            break
        page.wait_for_timeout(50)
    assert kiosk.get_job(job_id).state == common_pb2.JOB_STATE_CANCELLED


def test_expired_job_says_so(relay_factory: Any, chromium_browser: Any) -> None:
    relay = relay_factory(name="short", args=("--retention-seconds", "2"))
    slug, code = relay.add_shop("Quick Shop")
    kiosk = Kiosk(relay.address, code)
    bridge = BridgeServer(relay.address)
    from tests.bridge.page_helpers import axe_violations, phone_context

    try:
        with phone_context(chromium_browser, "360x740") as context:
            page = context.new_page()
            page.goto(f"{bridge.url}/s/{slug}#k={kiosk.key_param}")
            expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
            page.set_input_files(
                "#file-input",
                files=[{"name": "a.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 " + os.urandom(2000)}],
            )
            page.click("#send-button")
            expect(page.locator("#status-view")).to_be_visible()
            expect(page.locator("#status-line")).to_have_text("This job expired before it was printed.", timeout=20_000)
            assert axe_violations(page) == []
            shot(page, "12-expired")
    finally:
        bridge.close()
        kiosk.close()
