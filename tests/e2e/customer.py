"""The customer's side of the end-to-end tests: documents to send and a phone that sends them.

``make_pdf`` writes a real multi-page PDF (text with a marker plus a dark box on every
page, so renders are not blank); ``make_png`` a small colourful PNG. ``Phone`` drives
the real upload page in headless Chromium on a 360x740 viewport.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots" / "e2e"
PHONE_VIEWPORT = {"width": 360, "height": 740}
DONE_TEXT = "Done. Your prints are ready."


def make_pdf(marker: str, pages: int = 3) -> bytes:
    """A valid PDF of `pages` A4 pages, each showing `marker` and a dark rectangle."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    font = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for n in range(pages):
        text = f"{marker} page {n + 1}".encode()
        stream = b"0.1 0.2 0.6 rg 60 300 475 300 re f BT /F1 18 Tf 60 700 Td (" + text + b") Tj ET"
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content, font)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def make_png(size: tuple[int, int] = (320, 240)) -> bytes:
    """A small PNG with coloured bands."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (250, 250, 250))
    draw = ImageDraw.Draw(img)
    for i, colour in enumerate([(200, 30, 30), (30, 160, 60), (30, 60, 200)]):
        draw.rectangle([20 + i * 100, 40, 100 + i * 100, 200], fill=colour)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@dataclass(frozen=True)
class Upload:
    """One file as the customer picks it."""

    name: str
    media_type: str
    data: bytes


SIDES = {"none": "one-sided", "long": "two-sided-long-edge", "short": "two-sided-short-edge"}


@dataclass(frozen=True)
class Options:
    """What the customer chooses on the page (the page's own option values)."""

    copies: int = 1
    color: str = "bw"  # bw | color
    duplex: str = "none"  # none | long | short
    pages: str = ""
    paper: str = "A4"


class Phone:
    """The customer's phone: one browser context with a 360x740 viewport."""

    def __init__(self, browser: Any, name: str) -> None:
        self.context = browser.new_context(
            viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.name = name
        self.problems: list[str] = []
        self.page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        self.page.on("console", lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None)
        self._shots = 0

    def shot(self, label: str) -> Path:
        """Save a screenshot of the phone screen under artifacts/screenshots/e2e/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self._shots += 1
        path = SCREENSHOTS / f"{self.name}-{self._shots:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def send(self, url: str, files: Sequence[Upload], options: Options, customer: str = "Ada") -> str:
        """Open the shop's page, choose files and options, send; returns the job id."""
        page = self.page
        response = page.goto(url)
        if response is None or response.status != 200:
            raise AssertionError(f"upload page answered {response.status if response else 'nothing'}")
        expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
        self.shot("shop-page")
        page.set_input_files(
            "#file-input", files=[{"name": f.name, "mimeType": f.media_type, "buffer": f.data} for f in files]
        )
        expect(page.locator("#file-list li")).to_have_count(len(files))
        rows = page.locator("#file-list li")
        for index in range(len(files)):  # copies per file; the page range on the first file
            rows.nth(index).locator(".file-opts input[type=number]").fill(str(options.copies))
        if options.pages:
            rows.nth(0).locator(".file-opts input[type=text]").fill(options.pages)
        for selector, value in (
            ("#opt-color", {"bw": "monochrome"}.get(options.color, options.color)),
            ("#opt-sides", SIDES.get(options.duplex, options.duplex)),
            ("#opt-media", options.paper),
        ):
            choice = page.locator(selector)
            if choice.is_disabled():  # the shop's published capabilities offer only this value
                expect(choice).to_have_value(value)
            else:
                choice.select_option(value)
        page.fill("#customer-name", customer)
        self.shot("files-and-options")
        page.click("#send-button")
        expect(page).to_have_url(re.compile(r"/j/[A-Za-z0-9_-]+#t="))
        expect(page.locator("#status-view")).to_be_visible()
        return page.url.split("/j/", 1)[1].split("#", 1)[0]

    def wait_done(self, timeout_ms: int = 30_000) -> None:
        """Wait until the status page says the prints are ready."""
        expect(self.page.locator("#status-line")).to_have_text(DONE_TEXT, timeout=timeout_ms)

    def close(self) -> None:
        self.context.close()


def wait_until(condition: Callable[[], Any], timeout: float, step: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy (returned) or `timeout` s pass (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition() or None
