"""Printing to a real ippeveprinter (and a private CUPS queue), the demo printer, offline printers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kiosk.core.demo import sample_pdf
from kiosk.core.errors import PrinterError
from kiosk.core.jobs import PrintOptions
from kiosk.core.printing import (
    CupsPrinter,
    IppPrinter,
    PdfFolderPrinter,
    PrintState,
    ipp,
    list_cups_printers,
)
from tests.fixtures.services import free_port


def follow(printer, handle, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    status = printer.status(handle)
    while not status.state.done and time.monotonic() < deadline:
        time.sleep(0.1)
        status = printer.status(handle)
    return status


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            PrintOptions(copies=2, sides="two-sided-long-edge", color="color", page_ranges="1-2", media="A4"),
            {
                "IPP_COPIES": "2",
                "IPP_SIDES": "two-sided-long-edge",
                "IPP_PRINT_COLOR_MODE": "color",
                "IPP_PAGE_RANGES": "1-2",
                "IPP_MEDIA": "iso_a4_210x297mm",
            },
        ),
        (
            PrintOptions(copies=1, sides="two-sided-short-edge", color="monochrome", page_ranges="", media="Letter"),
            {
                "IPP_COPIES": "1",
                "IPP_SIDES": "two-sided-short-edge",
                "IPP_PRINT_COLOR_MODE": "monochrome",
                "IPP_MEDIA": "na_letter_8.5x11in",
            },
        ),
        (
            PrintOptions(copies=3, sides="one-sided", page_ranges="3,1", media="Legal"),
            {"IPP_COPIES": "3", "IPP_SIDES": "one-sided", "IPP_MEDIA": "na_legal_8.5x14in"},
        ),
    ],
)
def test_ipp_print_spools_the_bytes_with_the_options(
    ipp_printer,
    options: PrintOptions,  # type: ignore[no-untyped-def]
    expected: dict[str, str],
) -> None:
    pdf = sample_pdf(3)
    printer = IppPrinter(ipp_printer.uri)
    handle = printer.print_pdf(bytearray(pdf), options, "cloudtab-ABC123")
    status = follow(printer, handle)
    assert status.state is PrintState.COMPLETED, status
    jobs = ipp_printer.wait_for_jobs(1)
    assert len(jobs) == 1
    assert jobs[0].document == pdf
    attrs = jobs[0].attributes
    assert attrs["IPP_JOB_NAME"] == "cloudtab-ABC123"
    assert attrs["IPP_DOCUMENT_FORMAT_SUPPLIED"] == "application/pdf"
    for name, value in expected.items():
        assert attrs.get(name) == value, (name, attrs.get(name))
    if not options.page_ranges:
        assert "IPP_PAGE_RANGES" not in attrs


def test_ipp_page_ranges_are_sorted_and_merged(ipp_printer) -> None:  # type: ignore[no-untyped-def]
    printer = IppPrinter(ipp_printer.uri)
    follow(printer, printer.print_pdf(sample_pdf(5), PrintOptions(page_ranges="4-5,1"), "ranges"))
    attrs = ipp_printer.wait_for_jobs(1)[0].attributes
    assert attrs["IPP_PAGE_RANGES"].replace(" ", "") in ("1-1,4-5", "1,4-5")


def test_printer_attributes_and_listing(ipp_printer) -> None:  # type: ignore[no-untyped-def]
    printer = IppPrinter(ipp_printer.uri)
    attrs = printer.printer_attributes()
    assert "application/pdf" in attrs["document-format-supported"]
    assert "iso_a4_210x297mm" in attrs["media-supported"]
    [info] = printer.list_printers()
    assert info.name == "CloudTab Test" and info.state == "idle"
    assert "color" in attrs["print-color-mode-supported"]
    assert "two-sided-long-edge" in attrs["sides-supported"]


def test_printer_refuses_unsupported_values(ipp_printer) -> None:  # type: ignore[no-untyped-def]
    body = ipp.encode_request(
        ipp.PRINT_JOB,
        [
            (ipp.OPERATION, ipp.operation_attributes(ipp_printer.uri, document_format=(ipp.MIME, ["application/pdf"]))),
            (ipp.JOB, [ipp.Attribute("media", ipp.KEYWORD, ["iso_a0_841x1189mm"])]),
        ],
    )
    response = ipp.send(ipp_printer.uri, body, sample_pdf(1))
    assert not response.ok
    assert "not supported" in response.message


def test_offline_printer_is_a_clean_error() -> None:
    printer = IppPrinter(f"ipp://127.0.0.1:{free_port()}/ipp/print", timeout=2.0)
    with pytest.raises(PrinterError, match="cannot be reached"):
        printer.print_pdf(sample_pdf(1), PrintOptions(), "offline")
    with pytest.raises(PrinterError):
        printer.list_printers()


def test_ipp_response_parser_rejects_garbage() -> None:
    with pytest.raises(PrinterError):
        ipp.decode_response(b"\x01")
    assert ipp.decode_response(b"\x01\x01\x00\x00\x00\x00\x00\x01\x03").ok


def test_demo_printer_writes_pdf_and_options(tmp_path: Path) -> None:
    printer = PdfFolderPrinter(tmp_path / "out")
    pdf = sample_pdf(2)
    handle = printer.print_pdf(pdf, PrintOptions(copies=2, color="color"), "cloudtab-K1/../x")
    assert printer.status(handle).state is PrintState.COMPLETED
    [written] = list((tmp_path / "out").glob("*.pdf"))
    assert written.read_bytes() == pdf and ".." not in written.name
    meta = json.loads(written.with_suffix(".json").read_text())
    assert meta["ipp"]["copies"] == 2 and meta["ipp"]["print-color-mode"] == "color"


def test_cups_queue_lists_and_prints(cups_server) -> None:  # type: ignore[no-untyped-def]
    queues = list_cups_printers(cups_server.server)
    assert [q.name for q in queues] == ["kiosk"]
    printer = CupsPrinter("kiosk", cups_server.server)
    pdf = sample_pdf(2)
    options = PrintOptions(copies=2, sides="two-sided-long-edge", color="color", media="A4")
    handle = printer.print_pdf(pdf, options, "cups-job")
    status = follow(printer, handle, timeout=60)
    assert status.state is PrintState.COMPLETED, status
    jobs = cups_server.printer.wait_for_jobs(1, timeout=30)
    assert len(jobs) == 1
    attrs = jobs[0].attributes
    assert attrs.get("IPP_SIDES") == "two-sided-long-edge"
    assert attrs.get("IPP_COPIES") == "2"
    assert attrs.get("IPP_PRINT_COLOR_MODE") == "color"
    # CUPS sends the size as media-col (hundredths of mm) rather than the media keyword.
    media = attrs.get("IPP_MEDIA", "") + attrs.get("IPP_MEDIA_COL", "")
    assert "iso_a4_210x297mm" in media or "x-dimension=21000 y-dimension=29700" in media, media
    assert jobs[0].document.startswith(b"%PDF")  # CUPS rewrites the PDF (pdftopdf)
