"""The Kivy kiosk app under a real X server (Xvfb + Mesa), driven with touch events.

Kivy reads its environment when imported, so each test runs the app in a child
process (tests/kiosk/ui_driver.py) that writes a JSON result and screenshots;
this process never imports Kivy. Screenshots go to artifacts/screenshots/kiosk/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envelope.words import fingerprint_words
from tests.fixtures.display import kivy_env

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).resolve().parent / "ui_driver.py"
SHOTS = ROOT / "artifacts" / "screenshots" / "kiosk"


def run_driver(config: dict[str, Any], display: str, tmp_path: Path, timeout: float = 150) -> dict[str, Any]:
    """Run one scenario in a child process; returns its JSON result (fails the test on a crash)."""
    result_path = tmp_path / "result.json"
    config = {"result": str(result_path), "screenshots": str(SHOTS), "timeout": timeout - 20, **config}
    config_path = tmp_path / "driver.json"
    config_path.write_text(json.dumps(config))
    env = kivy_env(display, tmp_path / "kivy-home")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "generated"), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, str(DRIVER), str(config_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    output = (proc.stdout + proc.stderr).decode(errors="replace")
    if not result_path.exists():
        pytest.fail(f"the kiosk app crashed (exit {proc.returncode}):\n{output[-4000:]}")
    result: dict[str, Any] = json.loads(result_path.read_text())
    result["output"] = output
    return result


def assert_not_blank(path: str) -> float:
    """The screenshot exists, is 1280x800 and is not one flat colour; returns its pixel variance."""
    from PIL import Image, ImageStat

    with Image.open(path) as img:
        assert img.size == (1280, 800), f"{path} is {img.size}"
        rgb = img.convert("RGB")
        # A window smaller than the screen leaves pure black outside it (seen without a WM).
        for corner in ((1275, 4), (1275, 795), (4, 4)):
            assert rgb.getpixel(corner) != (0, 0, 0), f"{path}: nothing drawn at {corner}: not full screen"
        grey = img.convert("L")
        variance = ImageStat.Stat(grey).var[0]
        low, high = (int(v) for v in grey.getextrema())  # type: ignore[arg-type]
    assert variance > 100, f"{path} looks blank (variance {variance:.1f})"
    assert high - low > 128, f"{path} has no contrast ({low}, {high})"
    return variance


def test_screens_with_canned_jobs(xvfb_display: str, tmp_path: Path) -> None:
    """Every screen, the options editor, errors and the offline banner, on canned jobs (FakeCore)."""
    result = run_driver({"mode": "fake", "min_version": "9.0.0"}, xvfb_display, tmp_path)
    assert result["ok"], result["error"] + result["output"][-3000:]
    checks = result["checks"]
    assert checks["window_size"] == [1280, 800]
    assert checks["window_fullscreen"] == "auto"
    assert checks["first_screen"] == "enrollment"
    assert "one-time code" in checks["enroll_empty_code_error"]
    assert checks["flashes_after_arrival"] == 3  # one flash per new job
    assert checks["queue_codes"] == ["B2N6WE", "M4R8ZT", "K7P2QX"]  # newest first
    assert checks["taken_status"] == "At Counter 2"  # the shop's other counter has it (issue 19 item 5)
    assert checks["job_title"] == "Job K7P2QX"
    assert checks["watermark"] == "JOB K7P2QX"
    # 3 pages, duplex, 2 copies -> 2 sheets x 2 = 4 sheets at 0.50 colour
    assert checks["price_before"] == "3 pages, 4 sheets (2 copies)  =  EUR 2.00"
    assert checks["page_label"] == 3
    assert checks["price_one_sided"] == "3 pages, 6 sheets (2 copies)  =  EUR 3.00"
    assert checks["price_bw"] == "3 pages, 6 sheets (2 copies)  =  EUR 0.60"
    assert "does not exist" in checks["bad_range_error"]
    assert checks["print_disabled_on_bad_range"] is True
    assert checks["price_pages_2_3"] == "2 pages, 4 sheets (2 copies)  =  EUR 0.40"
    assert checks["zoom_after_pinch"] > 1.5
    assert checks["printer_status"] == "Printed."
    assert checks["printed_options"] == [
        (
            "PrintOptions(copies=2, sides='one-sided', color='color', page_ranges='2-3', media='A4', "
            "pages_per_sheet=1, orientation='portrait', photo_fit='fit', photo_size='page', photos_per_sheet=1)"
        )
    ]
    assert checks["completed"] == ["job-K7P2QX"]
    assert "cannot be decrypted" in checks["broken_error"]
    assert checks["broken_print_disabled"] is True
    assert checks["rejected_reason"] == "printer"
    assert "Cancelled" in checks["cancelled_message"]
    assert checks["cancelled_print_disabled"] is True
    assert checks["cancelled_page_dropped"] is True
    assert checks["queue_after_remove"] == ["M4R8ZT", "K7P2QX"]
    assert checks["update_needed"] is True  # the relay asks for 9.0.0
    assert checks["offline_message"].startswith("Offline: cannot reach the relay")
    assert checks["saved_bw_cents"] == 15
    # Settings > Printers (the printer list, issue 19 item 1)
    assert checks["printer_rows"] == ["Laser", "Colour"]
    assert checks["printers_after_add"] == [
        ["Laser", "folder", ""],
        ["Colour", "folder", ""],
        ["Office", "ipp", "ipp://192.0.2.1/ipp/print"],
    ]
    assert checks["office_words_before_poll"] == "Checking the printer..."
    assert checks["office_words"] and checks["office_words"] != "Checking the printer..."
    assert "already a printer called laser" in checks["duplicate_error"]
    assert checks["printers_after_duplicate"] == ["Laser", "Colour", "Office"]
    assert checks["printers_after_remove"] == checks["printer_rows_after_remove"] == ["Laser", "Office"]
    assert checks["routing_after_remove"] == ["Laser", "Any printer", "Any printer"]  # the colour row fell back
    assert checks["routes_after_remove"] == [["Laser", "", "A3"]]
    assert checks["dirty_after_remove"] is False
    assert checks["poster_fingerprint"] == "7KQ2-M9XD-4TZ1-PB8C"
    assert checks["poster_words"] == " ".join(fingerprint_words(b"\x04" + bytes(64)))  # as the page derives
    assert checks["keyboard_shown"] is True
    assert checks["idle_key_words"] == checks["poster_words"] and checks["idle_key_check_height"] > 0
    for name in (
        "fake_queue_key_check",
        "fake_enrollment",
        "fake_enrollment_keyboard",
        "fake_queue",
        "fake_job_view",
        "fake_job_error",
        "fake_queue_offline",
        "fake_settings",
        "fake_settings_printers",
        "fake_poster",
    ):
        assert_not_blank(result["screenshots"][name])


@pytest.mark.slow
@pytest.mark.parametrize("printer_kind", ["folder", "ipp"])
def test_enroll_receive_preview_print_complete(
    xvfb_display: str, relay: Any, tmp_path: Path, printer_kind: str, request: pytest.FixtureRequest
) -> None:
    """Real KioskCore + relay: enroll on screen, a customer's sealed PDF arrives, preview, print, complete.

    Then a damaged PDF is flagged and rejected, settings are saved, a test
    page printed, the key rotated and the poster printed. ``folder`` prints to
    the demo printer, ``ipp`` to a real ippeveprinter.
    """
    from tests.kiosk.ui_fake_core import sample_pdf

    slug, code = relay.add_shop("Corner Copy Shop")
    printed = tmp_path / "printed"
    document = sample_pdf(4, "Spring flyer")
    (tmp_path / "flyer.pdf").write_bytes(document)
    config: dict[str, Any] = {
        "mode": "real",
        "data_dir": str(tmp_path / "kiosk-data"),
        "relay_address": relay.address,
        "enrollment_code": code,
        "document": str(tmp_path / "flyer.pdf"),
        "shot_prefix": "" if printer_kind == "folder" else "ipp_",
    }
    ipp = None
    if printer_kind == "folder":
        config["printer_folder"] = str(printed)
    else:
        ipp = request.getfixturevalue("ipp_printer")
        config["printer_uri"] = ipp.uri
    result = run_driver(config, xvfb_display, tmp_path, timeout=180)
    assert result["ok"], result["error"] + result["output"][-3000:]
    checks = result["checks"]
    assert checks["window_size"] == [1280, 800]
    assert checks["window_fullscreen"] == "auto"
    assert checks["first_screen"] == "enrollment"
    assert checks["enroll_error"] == ""
    assert checks["online"] is True
    assert checks["flashes_after_arrival"] >= 1
    assert checks["row_code"] == checks["job_code"]
    assert checks["row_customer"] == "Ada Lovelace"
    assert "4 pages" in checks["row_details"] and "2 copies" in checks["row_details"]
    assert checks["row_price"].startswith("EUR ")
    assert checks["row_time_left"].endswith("left")
    assert checks["page_count"] == 4
    assert checks["page_has_ink"] is True
    assert len(checks["page_texture_size"]) == 2 and min(checks["page_texture_size"]) > 100
    assert checks["tap_to_first_page_seconds"] < 10
    assert checks["watermark"] == f"JOB {checks['job_code']}"
    # 4 pages duplex x 2 copies = 4 sheets, colour at the default 0.50
    assert checks["price_line"] == "4 pages, 4 sheets (2 copies)  =  EUR 2.00"
    done = "Printed." if printer_kind == "ipp" else "Saved as "  # the demo printer says where it saved
    assert checks["printer_status"].startswith(done)
    assert checks["complete_title"] == f"Complete job {checks['job_code']}?"
    assert checks["relay_state_after_complete"] == "JOB_STATE_COMPLETED"
    assert checks["screen_after_complete"] == "queue"
    assert "damaged" in checks["broken_row_error"] or "cannot be opened" in checks["broken_row_error"]
    assert checks["broken_view_error"]
    assert checks["broken_print_disabled"] is True
    assert checks["relay_state_after_reject"] == "JOB_STATE_REJECTED"
    assert checks["saved_bridge_url"] == "print.example.test"
    assert checks["settings_status"] == "Saved."
    assert len(checks["settings_fingerprint"]) == 19
    assert checks["settings_retention"].endswith("minutes")
    assert checks["test_print_status"].startswith("Test page: " + done)
    assert checks["rotate_status"].startswith("New key")
    assert len(checks["fingerprint_after_rotation"]) == 19
    assert checks["fingerprint_after_rotation"] != checks["settings_fingerprint"]
    assert (checks["screen_before_poster"], checks["screen_after_poster_tap"]) == ("queue", "poster")
    assert checks["poster_status"] == ""  # no error while the QR was made
    assert checks["poster_has_qr"] is True
    assert checks["poster_url"] == f"https://print.example.test/s/{slug}"
    assert checks["poster_fingerprint"] == checks["fingerprint_after_rotation"]
    assert checks["poster_print_status"].startswith("Poster: " + done)
    if ipp is not None:
        jobs = ipp.wait_for_jobs(3)
        assert len(jobs) == 3, jobs  # the job, the test page and the poster
        assert _pages(jobs[0].document) == _pages(document)  # rewritten for print (kiosk.core.sanitize)
        assert jobs[0].attributes["IPP_COPIES"] == "2"
        assert jobs[0].attributes["IPP_SIDES"] == "two-sided-long-edge"
        assert jobs[0].attributes["IPP_PRINT_COLOR_MODE"] == "color"
        for name in ("enrollment", "queue", "job_view", "job_error", "settings", "poster"):
            assert_not_blank(result["screenshots"]["ipp_" + name])
        return
    spooled = sorted(printed.glob("*.pdf"))
    assert len(spooled) == 3, spooled  # the job, the test page and the poster
    assert _pages(spooled[0].read_bytes()) == _pages(document)  # rewritten for print (kiosk.core.sanitize)
    assert all(path.read_bytes().startswith(b"%PDF-") for path in spooled)
    job_meta = json.loads(spooled[0].with_suffix(".json").read_text())
    assert job_meta["options"]["copies"] == 2
    assert job_meta["options"]["color"] == "color"
    assert job_meta["options"]["sides"] == "two-sided-long-edge"
    for name in ("enrollment", "queue", "job_view", "job_error", "settings", "poster"):
        assert_not_blank(result["screenshots"][name])


def _pages(pdf: bytes) -> int:
    from kiosk.core.render import open_document

    return open_document(bytearray(pdf), "application/pdf").page_count
