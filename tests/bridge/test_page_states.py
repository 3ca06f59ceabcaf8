"""The customer's page in its other states, on a phone: resuming after a reload (the
same files re-picked, checked by hash), resuming by itself after going offline, chunks
under nginx's default body limit, an insecure context, the unverified key, withdrawing
with a confirmation, a rejection in plain words, the languages (Arabic right to left),
and the error pages; axe-core on each, nothing wider than a 320-px screen."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cloudtab.v1 import common_pb2
from playwright.sync_api import expect

from tests.bridge.docs import pdf_bytes, png_bytes
from tests.bridge.page_helpers import (
    axe_violations,
    new_page,
    no_overflow,
    phone_context,
    shot,
)

SMALL = "320x640"


def _job_id(page: Any) -> str:
    return str(page.url.split("/j/", 1)[1].split("#", 1)[0])


def _send_small(page: Any, bridge: Any, kiosk: Any) -> str:
    page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
    expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
    page.set_input_files(
        "#file-input", files=[{"name": "flyer.png", "mimeType": "image/png", "buffer": png_bytes(300, 200)}]
    )
    expect(page.locator("#file-list li")).to_have_attribute("data-pages", "1")
    page.click("#send-button")
    expect(page.locator("#status-view")).to_be_visible()
    return _job_id(page)


def test_reload_mid_upload_resumes_with_the_same_files(bridge: Any, kiosk: Any, chromium_browser: Any) -> None:
    data = pdf_bytes(2, b"resume", pad_to=4_000_000)
    photo = png_bytes()
    files = [
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": data},
        {"name": "photo.png", "mimeType": "image/png", "buffer": photo},
    ]
    with phone_context(chromium_browser, SMALL) as context:
        page = new_page(context)
        puts: list[str] = []
        state = {"passed": 0}

        def on_put(route: Any) -> None:
            if state["passed"] < 2:  # two chunks reach the relay, then the line hangs
                state["passed"] += 1
                route.continue_()
            # else: never answered (the upload is stuck mid-file)

        page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
        page.route("**/api/jobs/*/files/*", on_put)
        page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
        expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
        page.set_input_files("#file-input", files=files)
        expect(page.locator("#file-list li").first).to_have_attribute("data-pages", "2")
        page.click("#send-button")
        for _ in range(400):
            if len(puts) >= 3:
                break
            page.wait_for_timeout(50)
        assert len(puts) >= 3
        expect(page.locator("#app")).to_have_attribute("data-uploading", "yes")
        shot(page, SMALL, "20-uploading")
        assert axe_violations(page) == []

        dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.type)
            dialog.accept()

        page.on("dialog", on_dialog)
        page.unroute("**/api/jobs/*/files/*")
        page.reload()
        assert dialogs == ["beforeunload"]  # warned before leaving mid-upload
        expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
        expect(page.locator("#resume-box")).to_be_visible()
        expect(page.locator("#resume-text")).to_contain_text("report.pdf, photo.png")
        assert no_overflow(page)
        assert axe_violations(page) == []
        shot(page, SMALL, "21-resume-after-reload")

        # Other files are not taken for the interrupted ones.
        page.set_input_files(
            "#file-input",
            files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(1)}, files[1]],
        )
        expect(page.locator("#file-list li")).to_have_count(2)
        page.click("#send-button")
        expect(page.locator("#form-error")).to_contain_text("not the same files")
        for _row in range(2):
            page.locator("#file-list li .remove").first.click()
        expect(page.locator("#file-list li")).to_have_count(0)

        # The same files, picked in another order: the upload continues where it stopped.
        puts.clear()
        page.set_input_files("#file-input", files=[files[1], files[0]])
        expect(page.locator("#file-list li")).to_have_count(2)
        page.click("#send-button")
        expect(page.locator("#status-view")).to_be_visible()
        first = next(u for u in puts if "/files/0?" in u)
        assert int(first.rsplit("offset=", 1)[1]) > 0, puts  # not from the start
        opened = kiosk.open_job(_job_id(page))
        assert opened.files == [data, photo]


def test_offline_upload_resumes_by_itself(bridge: Any, kiosk: Any, chromium_browser: Any) -> None:
    data = pdf_bytes(1, b"offline", pad_to=6_000_000)
    with phone_context(chromium_browser, "360x740") as context:
        page = new_page(context)
        sizes: list[int] = []
        page.on("request", lambda r: sizes.append(len(r.post_data_buffer or b"")) if r.method == "PUT" else None)
        page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
        expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
        # A slow phone line: about 4 Mbit/s up.
        cdp = context.new_cdp_session(page)
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 40, "downloadThroughput": 2_000_000, "uploadThroughput": 500_000},
        )
        page.set_input_files(
            "#file-input", files=[{"name": "poster.pdf", "mimeType": "application/pdf", "buffer": data}]
        )
        page.click("#send-button")
        expect(page.locator("#upload-line")).to_contain_text("left", timeout=20_000)  # "about … left"
        seen = {
            page.locator("#overall-bar").get_attribute("value") for _ in range(8) if page.wait_for_timeout(150) is None
        }
        assert len(seen) >= 3, seen  # the bar moves within a chunk, not in 1 MB steps
        expect(page.locator("body")).to_have_attribute("data-awake", "held")  # the screen stays on
        shot(page, "360x740", "22-progress-estimate")
        context.set_offline(True)  # the phone loses its network mid-upload
        expect(page.locator("#upload-line")).to_contain_text("You are offline", timeout=20_000)
        page.wait_for_timeout(3000)
        expect(page.locator("#status-view")).to_be_hidden()
        assert axe_violations(page) == []
        shot(page, "360x740", "23-offline-waiting")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        context.set_offline(False)  # nobody presses anything
        expect(page.locator("#status-view")).to_be_visible(timeout=30_000)
        expect(page.locator("body")).to_have_attribute("data-awake", "released")  # only while uploading
        assert kiosk.open_job(_job_id(page)).files == [data]
        assert sizes and max(sizes) <= 983_280, sizes  # under 1,000,000 bytes


def test_insecure_context_says_what_to_do(bridge: Any, kiosk: Any, chromium_browser: Any) -> None:
    with phone_context(chromium_browser, SMALL) as context:
        # The bridge under a LAN-style name over plain HTTP: not a secure context.
        def via_bridge(route: Any) -> None:
            if "/__test__/" in route.request.url:
                route.fallback()  # axe-core, from the test context
                return
            route.fulfill(response=route.fetch(url=route.request.url.replace("http://shop.test", bridge.url)))

        context.route("http://shop.test/**", via_bridge)
        page = new_page(context)
        page.goto(f"http://shop.test/s/{kiosk.slug}#k={kiosk.key_param}")
        expect(page.locator("#app")).to_have_attribute("data-ready", "insecure")
        expect(page.locator("#insecure")).to_be_visible()
        expect(page.locator("#insecure h1")).to_have_text("This page needs a secure connection")
        expect(page.locator("#insecure-link")).to_have_attribute("href", re.compile(r"^https://shop\.test/s/"))
        expect(page.locator("#job-form")).to_be_hidden()
        assert no_overflow(page)
        assert axe_violations(page) == []
        shot(page, SMALL, "24-insecure-context")


def test_unverified_key_is_unmistakable(bridge: Any, kiosk: Any, chromium_browser: Any) -> None:
    with phone_context(chromium_browser, SMALL) as context:
        page = new_page(context)
        page.goto(f"{bridge.url}/s/{kiosk.slug}")
        expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
        expect(page.locator("#key-box")).to_have_class(re.compile("unverified"))
        expect(page.locator("#key-box")).to_have_attribute("open", "")
        expect(page.locator("#key-title")).to_have_text("Check the shop's key before sending")
        expect(page.locator("#fingerprint")).to_be_visible()
        page.keyboard.press("Tab")  # the skip link, then the language switch
        page.keyboard.press("Tab")
        outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"  # a visible keyboard focus
        assert no_overflow(page)
        assert axe_violations(page) == []
        shot(page, SMALL, "25-unverified-key")


def test_withdraw_asks_first_and_rejection_reads_plainly(bridge: Any, kiosk: Any, chromium_browser: Any) -> None:
    with phone_context(chromium_browser, SMALL) as context:
        page = new_page(context)
        job_id = _send_small(page, bridge, kiosk)
        page.click("#cancel-job")
        expect(page.locator("#confirm-withdraw")).to_be_visible()
        expect(page.locator("#withdraw-no")).to_be_focused()
        assert axe_violations(page) == []
        shot(page, SMALL, "26-withdraw-confirm")
        page.click("#withdraw-no")
        expect(page.locator("#cancel-job")).to_be_visible()
        assert kiosk.get_job(job_id).state == common_pb2.JOB_STATE_QUEUED

        other = new_page(context)
        other_id = _send_small(other, bridge, kiosk)
        kiosk.reject(other_id, "unsupported")
        expect(other.locator("#status-line")).to_have_text("The shop declined this job.")
        expect(other.locator("#status-detail")).to_have_text(
            "A file of this job is of a type this shop cannot print. The files have been deleted."
        )
        assert axe_violations(other) == []
        shot(other, SMALL, "27-rejected")

        page.click("#cancel-job")
        page.click("#withdraw-yes")
        expect(page.locator("#status-line")).to_have_text("You withdrew this job.")
        assert axe_violations(page) == []
        shot(page, SMALL, "28-withdrawn")

        unknown = new_page(context)
        unknown.goto(f"{bridge.url}/j/{job_id}")  # no link, another tab
        expect(unknown.locator("#app")).to_have_attribute("data-ready", "unknown")
        expect(unknown.locator("#status-line")).to_contain_text("open the status link")
        assert axe_violations(unknown) == []
        shot(unknown, SMALL, "29-status-without-link")

        forged = new_page(context)
        forged.goto(f"{bridge.url}/j/{job_id}#t={'A' * 43}")  # a link with a wrong token
        expect(forged.locator("#status-view")).to_have_attribute("data-state", "gone")
        expect(forged.locator("#status-line")).to_have_text("This job cannot be opened from this link.")
        assert axe_violations(forged) == []
        shot(forged, SMALL, "34-status-wrong-link")


@pytest.mark.parametrize(
    "lang,text", [("es", "Enviar de forma segura"), ("hi", "सुरक्षित रूप से भेजें"), ("ar", "أرسل بأمان")]
)
def test_languages_on_a_small_phone(lang: str, text: str, bridge: Any, kiosk: Any, chromium_browser: Any) -> None:
    with phone_context(chromium_browser, SMALL, locale=lang, extra_http_headers={"Accept-Language": lang}) as context:
        page = new_page(context)
        page.goto(f"{bridge.url}/s/{kiosk.slug}#k={kiosk.key_param}")
        expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
        expect(page.locator("#send-button")).to_have_text(text)
        page.set_input_files(
            "#file-input",
            files=[
                {"name": "cv.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(2)},
                {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"},
            ],
        )
        expect(page.locator("#file-list li").first).to_have_attribute("data-pages", "2")
        # Script messages come from the same catalogue as the template's.
        expect(page.locator("#key-title")).not_to_have_text("Shop key verified")
        expect(page.locator("#form-error")).not_to_contain_text("needs your attention")
        assert no_overflow(page)
        assert axe_violations(page) == []
        shot(page, SMALL, f"30-language-{lang}")
        # The switch keeps the shop key fragment.
        page.click('a[data-lang="en"]')
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert f"#k={kiosk.key_param}" in page.url
        expect(page.locator("#key-title")).to_have_text("Shop key verified")


@pytest.mark.parametrize("path", ["/s/no-such-shop", "/nothing-here", "/"])
def test_error_and_landing_pages(path: str, bridge: Any, chromium_browser: Any) -> None:
    with phone_context(chromium_browser, SMALL) as context:
        page = new_page(context)
        page.goto(f"{bridge.url}{path}")
        expect(page.locator("main .card")).to_be_visible()
        if path != "/":
            expect(page.locator(".error-page h1")).to_have_text("Not found")
            expect(page.locator(".button-link")).to_be_visible()
        assert no_overflow(page)
        assert axe_violations(page) == []
        name = {"/s/no-such-shop": "31-error-unknown-shop", "/nothing-here": "32-error-404", "/": "33-landing"}[path]
        shot(page, SMALL, name)
