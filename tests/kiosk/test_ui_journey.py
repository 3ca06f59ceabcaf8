"""The counter journey on the real window at the smallest and a large screen.

Enroll on screen -> a customer's sealed PDF arrives -> open -> Print through a
private CUPS queue (default PreserveJobFiles: documents kept a day) to a real
ippeveprinter -> Complete, confirmed in its dialog -> the job is gone at the
relay and cupsd's spool holds nothing of the document (its marker text).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.display import xvfb_server
from tests.kiosk.test_core_counter import spool_hits
from tests.kiosk.test_ui_app import run_driver
from tests.security import pdfs


@pytest.mark.parametrize("size", ["800x600", "1920x1080"])
def test_journey_prints_through_cups_and_leaves_nothing(
    size: str, relay: Any, cups_server: Any, tmp_path: Path
) -> None:
    _slug, code = relay.add_shop("Corner Copy Shop")
    marker = b"CTJOURNEY" + secrets.token_hex(6).upper().encode()
    document = tmp_path / "letter.pdf"
    document.write_bytes(pdfs.simple_pdf(marker))
    config: dict[str, Any] = {
        "mode": "real",
        "data_dir": str(tmp_path / "kiosk-data"),
        "relay_address": relay.address,
        "enrollment_code": code,
        "document": str(document),
        "shot_prefix": f"journey_{size}_",
        "cups_server": cups_server.server,
        "cups_queue": cups_server.queue,
        "journey_only": True,
    }
    with xvfb_server(f"{size}x24") as display:
        result = run_driver(config, display, tmp_path, timeout=180)
    assert result["ok"], result["error"] + result["output"][-3000:]
    checks = result["checks"]
    assert checks["window_size"] == [int(v) for v in size.split("x")]
    assert checks["enroll_error"] == "" and checks["online"] is True
    assert checks["page_has_ink"] is True
    assert checks["printer_status"] == "Printed."
    assert checks["complete_title"] == f"Complete job {checks['job_code']}?"
    assert checks["relay_state_after_complete"] == "JOB_STATE_COMPLETED"
    assert len(cups_server.printer.wait_for_jobs(1)) == 1  # it reached the printer
    assert spool_hits(cups_server.request_root, marker) == []  # and nothing stays in the spool
