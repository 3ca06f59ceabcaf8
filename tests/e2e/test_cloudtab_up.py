"""`cloudtab up --headless` on the embedded defaults, as a user meets it.

The launcher starts relay (SQLite + blob folder), bridge, a demo shop and the
headless kiosk; Chromium on a phone sends a PDF to the printed customer URL; the
demo printer's folder receives exactly that PDF with the options asked for; the
page shows done; SIGTERM stops everything (exit 0, no child left); a second run
reuses the shop and its key.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.customer import Options, Phone, Upload, make_pdf, wait_until
from tests.e2e.launcher_proc import CloudtabUp, alive, descendants

MARKER = "CLOUDTAB-UP-MARKER-51c2"


@pytest.fixture
def launcher_runs(tmp_path: Path) -> Any:
    started: list[CloudtabUp] = []

    def start() -> CloudtabUp:
        up = CloudtabUp(tmp_path / "data", tmp_path / f"up-{len(started)}.log")
        started.append(up)
        return up

    yield start
    for up in started:
        up.kill()


def test_cloudtab_up_headless_journey(launcher_runs: Any, chromium_browser: Any, tmp_path: Path) -> None:
    started = time.monotonic()
    up = launcher_runs()
    url = up.customer_url()
    parts = urlsplit(url)
    assert parts.netloc == up.bridge_listen and parts.path.startswith("/s/") and parts.fragment.startswith("f=")
    log_file = tmp_path / "data" / "cloudtab.log"
    assert wait_until(lambda: "[kiosk ] relay: connected" in log_file.read_text(), timeout=30), log_file.read_text()
    up.wait_for_line(r"Press Ctrl-C", 10)
    assert "█" in up.output(), "no terminal QR code"

    pdf = make_pdf(MARKER, pages=3)
    phone = Phone(chromium_browser, "up")
    try:
        phone.send(
            url,
            [Upload("notes.pdf", "application/pdf", pdf)],
            Options(copies=2, color="color", duplex="long", pages="1-2", paper="A4"),
        )
        printed_dir = tmp_path / "data" / "printed"
        printed = wait_until(lambda: sorted(printed_dir.glob("*.pdf")), timeout=30)
        assert printed, f"the demo printer received nothing:\n{up.output()[-3000:]}"
        assert len(printed) == 1
        assert _pages(printed[0].read_bytes()) == _pages(pdf)  # the kiosk prints a rewritten copy
        meta = json.loads(printed[0].with_suffix(".json").read_text())
        assert meta["ipp"]["copies"] == 2
        assert meta["ipp"]["sides"] == "two-sided-long-edge"
        assert meta["ipp"]["print-color-mode"] == "color"
        assert meta["ipp"]["media"] == "iso_a4_210x297mm"
        assert [list(r) for r in meta["ipp"]["page-ranges"]] == [[1, 2]]
        phone.wait_done()
        phone.shot("done")
        assert [p for p in phone.problems if "favicon" not in p] == []
    finally:
        phone.close()
    # The relay's folder holds no blob and no plaintext once the job is done.
    relay_dir = tmp_path / "data" / "relay"
    leftovers = wait_until(lambda: not [p for p in (relay_dir / "blobs").rglob("*") if p.is_file()], timeout=10)
    assert leftovers, f"blobs left: {list((relay_dir / 'blobs').rglob('*'))}"
    assert not any(MARKER.encode() in p.read_bytes() for p in relay_dir.rglob("*") if p.is_file())

    children = descendants(up.process.pid)
    assert len(children) >= 3, f"expected relay, bridge and kiosk below the launcher, got {children}"
    assert up.terminate() == 0, up.output()[-3000:]
    assert wait_until(lambda: not [p for p in children if alive(p)], timeout=10), (
        f"children left: {[p for p in children if alive(p)]}"
    )
    assert "Traceback" not in up.output() + log_file.read_text(), up.output()[-3000:]

    again = launcher_runs()
    second = urlsplit(again.customer_url())
    assert (second.path, second.fragment) == (parts.path, parts.fragment)  # same shop slug, same key
    assert "reusing the demo shop" in again.output()
    assert again.terminate() == 0, again.output()[-3000:]
    assert time.monotonic() - started < 90


def _pages(pdf: bytes) -> int:
    from kiosk.core.render import open_document

    return open_document(bytearray(pdf), "application/pdf").page_count
