"""`cloudtab up --lan`: a phone on the shop's network opens the page over HTTPS.

The launcher listens on the machine's LAN address with a certificate from the local
CA it creates once in DATA/tls. A Chromium that trusts that CA (an NSS database in its
own HOME, as a phone with the CA installed) opens the page by a non-loopback name
(shop.test, mapped to the LAN address with --host-resolver-rules) and sends a job that
the headless kiosk prints. The same page over plain HTTP under that name is not a
secure context (no WebCrypto): the page shows its insecure-context message instead of
the form.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from launcher.lan import lan_address
from tests.e2e.customer import SCREENSHOTS, Options, Phone, Upload, make_pdf, wait_until
from tests.e2e.launcher_proc import CloudtabUp
from tests.e2e.trust import trusting_home
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, chromium_available
from tests.fixtures.services import free_port, service_missing

MARKER = "CLOUDTAB-LAN-MARKER-7d31"
NAME = "shop.test"


@pytest.fixture
def browser_for(tmp_path: Path) -> Iterator[Any]:
    """Launch a Chromium with its own HOME mapping NAME to an address."""
    if not chromium_available():
        service_missing(f"Chromium at {CHROMIUM} with the playwright package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browsers: list[Any] = []

        def launch(address: str, home: Path) -> Any:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {NAME} {address}"],
                env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
            )
            browsers.append(browser)
            return browser

        yield launch
        for browser in browsers:
            browser.close()


def test_lan_page_over_https_by_name(tmp_path: Path, browser_for: Any) -> None:
    try:
        address = lan_address()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"this machine has no LAN address for the test: {exc}")
    data = tmp_path / "data"
    port = free_port()
    up = CloudtabUp(data, tmp_path / "up-lan.log", "--lan", "--lan-name", NAME, bridge_listen=f":{port}")
    try:
        url = up.customer_url()
        parts = urlsplit(url)
        assert (parts.scheme, parts.hostname, parts.port) == ("https", NAME, port), url
        up.wait_for_line(r"Press Ctrl-C", 10)
        out = up.output()
        ca_file = data / "tls" / "cloudtab-local-ca.crt"
        assert f"install {ca_file} once as a trusted certificate authority" in out, out
        assert "█" in out
        assert (data / "tls" / "cloudtab-local-ca.key").stat().st_mode & 0o077 == 0
        assert wait_until(lambda: "relay: connected" in (data / "cloudtab.log").read_text(), timeout=30)

        browser = browser_for(address, trusting_home(tmp_path / "home", ca_file))
        phone = Phone(browser, "lan")
        pdf = make_pdf(MARKER, pages=2)
        try:
            phone.send(url, [Upload("lan.pdf", "application/pdf", pdf)], Options(copies=1))
            assert phone.page.evaluate("() => window.isSecureContext") is True
            printed = wait_until(lambda: sorted((data / "printed").glob("*.pdf")), timeout=30)
            assert printed and _pages(printed[0].read_bytes()) == _pages(pdf)  # a rewritten copy
            phone.wait_done()
            phone.shot("lan-done")
        finally:
            phone.close()
        assert up.interrupt() == 0, up.output()[-3000:]
    finally:
        up.kill()

    # The same page over plain HTTP under that name (no --lan, listening on the LAN address).
    plain_port = free_port()
    plain = CloudtabUp(data, tmp_path / "up-plain.log", bridge_listen=f"{address}:{plain_port}")
    try:
        plain_url = plain.customer_url()
        assert plain_url.startswith(f"http://{address}:{plain_port}/s/"), plain_url
        browser = browser_for(address, tmp_path / "home")
        context = browser.new_context()
        page = context.new_page()
        by_name = plain_url.replace(f"http://{address}:", f"http://{NAME}:")
        response = page.goto(by_name)
        assert response is not None and response.status == 200
        assert page.evaluate("() => [window.isSecureContext, typeof crypto.subtle]") == [False, "undefined"]
        expect(page.locator("#app")).to_have_attribute("data-ready", "insecure")
        expect(page.locator("#insecure")).to_be_visible()
        expect(page.locator("#insecure h1")).to_have_text("This page needs a secure connection")
        expect(page.locator("#job-form")).to_be_hidden()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "lan-plain-http.png"), full_page=True)
        context.close()
        assert plain.interrupt() == 0
    finally:
        plain.kill()


def test_lan_with_the_owners_certificate(tmp_path: Path) -> None:
    """--tls-cert/--tls-key: the page is served with that certificate, no local CA is made
    and no CA advice is printed."""
    import ssl
    import urllib.request

    from tests.deploy.stack import make_pki

    pki = make_pki(tmp_path / "owner")
    port = free_port()
    up = CloudtabUp(
        tmp_path / "data",
        tmp_path / "up-owner.log",
        "--lan",
        "--lan-address",
        "127.0.0.1",
        "--lan-name",
        NAME,
        "--tls-cert",
        str(pki["cert"]),
        "--tls-key",
        str(pki["key"]),
        bridge_listen=f":{port}",
    )
    try:
        url = up.customer_url()
        assert url.startswith(f"https://{NAME}:{port}/s/"), url
        up.wait_for_line(r"Press Ctrl-C", 10)
        assert "certificate authority" not in up.output() and not (tmp_path / "data" / "tls").exists()
        context = ssl.create_default_context(cafile=str(pki["ca"]))
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/", timeout=10, context=context) as reply:
            assert reply.status == 200
            assert reply.headers.get("Strict-Transport-Security")
        assert up.interrupt() == 0, up.output()[-3000:]
    finally:
        up.kill()


def _pages(pdf: bytes) -> int:
    from kiosk.core.render import open_document

    return open_document(bytearray(pdf), "application/pdf").page_count
