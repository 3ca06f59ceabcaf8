"""The terminal of `cloudtab up`, as a shop owner sees it.

The customer URL and its QR stay the last thing on screen (every part's log goes to
DATA/cloudtab.log), a kiosk that crashes is started again while the relay and the
upload page keep serving, the upload page runs under gunicorn, and Ctrl-C (SIGINT to
the whole terminal process group) stops every part with exit status 0 and no
traceback anywhere.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.customer import wait_until
from tests.e2e.launcher_proc import CloudtabUp, alive, cmdline, descendants


@pytest.fixture
def launcher_runs(tmp_path: Path) -> Any:
    started: list[CloudtabUp] = []

    def start(*extra: str, **kwargs: Any) -> CloudtabUp:
        up = CloudtabUp(tmp_path / "data", tmp_path / f"up-{len(started)}.log", *extra, **kwargs)
        started.append(up)
        return up

    yield start
    for up in started:
        up.kill()


def test_terminal_keeps_the_url_and_survives_a_kiosk_crash(launcher_runs: Any, tmp_path: Path) -> None:
    up = launcher_runs()
    url = up.customer_url()
    up.wait_for_line(r"Press Ctrl-C to stop", 30)
    log_file = tmp_path / "data" / "cloudtab.log"
    assert wait_until(lambda: "relay: connected" in log_file.read_text(), timeout=30), log_file.read_text()

    bridge = up.child_pid("gunicorn")
    assert bridge is not None, (
        f"the upload page does not run under gunicorn: {[cmdline(p) for p in descendants(up.process.pid)]}"
    )
    kiosk = up.child_pid("cloudtab-kiosk")
    relay = up.child_pid("cloudtab-relay")
    assert kiosk and relay

    os.kill(kiosk, signal.SIGKILL)
    up.wait_for_line(r"the kiosk stopped \(status -9\); starting it again", 15)
    new_kiosk = wait_until(lambda: (p := up.child_pid("cloudtab-kiosk")) and p != kiosk and p, timeout=15)
    assert new_kiosk, up.output()
    assert wait_until(lambda: log_file.read_text().count("relay: connected") >= 2, timeout=30), log_file.read_text()
    # The relay and the upload page never stopped.
    assert up.child_pid("cloudtab-relay") == relay and up.child_pid("gunicorn") == bridge
    base = url.split("/s/")[0]
    with urllib.request.urlopen(base + "/", timeout=5) as reply:
        assert reply.status == 200
    assert up.process.poll() is None

    children = descendants(up.process.pid)
    assert up.interrupt() == 0, up.output()[-3000:]
    assert wait_until(lambda: not [p for p in children if alive(p)], timeout=10), (
        f"children left: {[cmdline(p) for p in children if alive(p)]}"
    )

    terminal = up.output()
    log_text = log_file.read_text()
    # The terminal: only the launcher's own lines and the QR; the URL stays visible.
    lines = terminal.splitlines()
    last_qr_row = max(i for i, line in enumerate(lines) if "▀" in line or "█" in line)
    after_qr = lines[last_qr_row + 1 :]
    assert [line for line in terminal.splitlines() if line.startswith("[") and not line.startswith("[up")] == [], (
        terminal
    )
    assert "Customer upload page: " + url in terminal and "█" in terminal
    assert after_qr and all(line.startswith("[up") for line in after_qr), after_qr
    # Every part logged to the file, once per line, without tracebacks.
    for part in (
        "[relay ]",
        "[kiosk ]",
        "[up    ] stopping",
        "[up    ] kiosk stopped (0)",
        "[up    ] bridge stopped (0)",
        "[up    ] relay stopped (0)",
    ):
        assert part in log_text, f"{part!r} missing from the log:\n{log_text}"
    for text in (terminal, log_text):
        assert "Traceback" not in text and "SystemExit" not in text and "Channel closed" not in text, text
    stamped = [line for line in log_text.splitlines() if re.search(r"\d\d:\d\d:\d\d,\d{3}", line)]
    duplicates = [line for line, n in collections.Counter(stamped).items() if n > 1]
    assert duplicates == [], duplicates


def test_verbose_shows_the_logs_and_stops_cleanly(launcher_runs: Any, tmp_path: Path) -> None:
    up = launcher_runs("--verbose")
    up.customer_url()
    up.wait_for_line(r"\[kiosk \].*relay: connected$", 30)
    assert not (tmp_path / "data" / "cloudtab.log").exists()
    assert up.interrupt() == 0, up.output()[-3000:]
    assert "Traceback" not in up.output(), up.output()
    # The relay's own "shutting down" line is not asserted: under load it can be cut off by
    # the stop itself (seen once in a full CI run); exit 0 and no traceback are the contract.
