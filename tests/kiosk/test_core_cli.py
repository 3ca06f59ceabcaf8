"""``cloudtab-kiosk --headless`` against a real relay, and the poster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pypdfium2 as pdfium
import pytest
from cloudtab.v1 import common_pb2

from kiosk.cli import main
from kiosk.core.demo import sample_pdf
from kiosk.core.errors import ConfigError
from kiosk.core.poster import poster_pdf, qr_png, shop_url
from kiosk.core.render import open_document
from tests.fixtures.faults import Customer, PlainFile

ROOT = Path(__file__).resolve().parents[2]


def test_help_exits_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "--headless" in capsys.readouterr().out


def test_headless_without_enrollment_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--data-dir", str(tmp_path)]) == 2
    assert "not enrolled" in capsys.readouterr().err


def online(customer: Customer, slug: str) -> bool:
    try:
        return customer.shop(slug).online
    except grpc.RpcError:  # NOT_FOUND until the kiosk has enrolled
        return False


def test_headless_kiosk_prints_and_completes(relay, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    slug, code = relay.add_shop("Headless Print")
    out = tmp_path / "printed"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "generated")]))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "--headless",
            "--data-dir",
            str(tmp_path / "kiosk"),
            "--relay",
            relay.address,
            "--enroll",
            code,
            "--printer-folder",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    channel = relay.channel()
    try:
        customer = Customer(channel)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not online(customer, slug):
            time.sleep(0.1)
        pdf = sample_pdf(2)
        job = customer.send(slug, [PlainFile("NAME-IN-TERMINAL.pdf", "application/pdf", pdf)])
        bad = [
            PlainFile("ok.pdf", "application/pdf", pdf),
            PlainFile("NAME-IN-TERMINAL-2.pdf", "application/pdf", b"MZ"),
        ]
        rejected = customer.send(slug, bad)
        ended = (common_pb2.JOB_STATE_COMPLETED, common_pb2.JOB_STATE_REJECTED)
        while time.monotonic() < deadline and {customer.get(j).state for j in (job, rejected)} - set(ended):
            time.sleep(0.1)
        assert customer.get(job).state == common_pb2.JOB_STATE_COMPLETED
        assert customer.get(rejected).reason == "unsupported"  # a fixed code; no file name, sealed or not
        printed = [p.read_bytes() for p in out.glob("*.pdf")]
        assert len(printed) == 1 and printed[0] != pdf  # rewritten for print (kiosk.core.sanitize)
        assert open_document(bytearray(printed[0]), "application/pdf").page_count == 2
    finally:
        channel.close()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, output
    assert "enrolled as Headless Print" in output
    assert "NAME-IN-TERMINAL" not in output
    assert f"job {job.job_code} completed" in output
    assert f"job {rejected.job_code} rejected" in output


def test_poster_url_qr_and_pdf() -> None:
    url = shop_url("print.example.org/", "corner-copy", "BASE64KEY")
    assert url == "https://print.example.org/s/corner-copy#k=BASE64KEY"
    with pytest.raises(ConfigError):
        shop_url("", "x", "k")
    png = qr_png(url)
    assert png.startswith(b"\x89PNG")
    pdf = poster_pdf("Corner Copy", url, "ABCD-EFGH-JKMN-PQRS")
    with pdfium.PdfDocument(pdf) as doc:
        assert len(doc) == 1
        width, height = doc[0].get_size()
        assert (round(width), round(height)) == (595, 842)
