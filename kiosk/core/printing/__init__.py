"""Printing: one interface (:class:`PrinterBackend`), three backends.

IppPrinter (IPP Everywhere to a printer URL), CupsPrinter (a queue of the local
CUPS server) and PdfFolderPrinter (the demo printer writing PDFs to a folder).
"""

from __future__ import annotations

from pathlib import Path

from kiosk.core.config import PrinterSettings
from kiosk.core.errors import PrinterError
from kiosk.core.printing.base import (
    PrinterBackend,
    PrinterInfo,
    PrintJobHandle,
    PrintState,
    PrintStatus,
)
from kiosk.core.printing.cups import CupsPrinter, list_cups_printers
from kiosk.core.printing.folder import PdfFolderPrinter
from kiosk.core.printing.ipp_printer import IppPrinter, ipp_attributes

__all__ = [
    "CupsPrinter",
    "IppPrinter",
    "PdfFolderPrinter",
    "PrintJobHandle",
    "PrintState",
    "PrintStatus",
    "PrinterBackend",
    "PrinterInfo",
    "ipp_attributes",
    "list_cups_printers",
    "make_printer",
]


def make_printer(settings: PrinterSettings, data_dir: Path) -> PrinterBackend:
    """The backend the settings choose.

    Raises:
        PrinterError: incomplete settings (no URI / queue) or unknown kind.
    """
    if settings.kind == "ipp":
        if not settings.uri:
            raise PrinterError("no printer address is set (ipp://host:631/ipp/print)")
        return IppPrinter(settings.uri)
    if settings.kind == "cups":
        return CupsPrinter(settings.queue, settings.cups_server)
    if settings.kind == "folder":
        return PdfFolderPrinter(Path(settings.folder) if settings.folder else data_dir / "demo-printer")
    raise PrinterError(f"unknown printer kind {settings.kind!r}")
