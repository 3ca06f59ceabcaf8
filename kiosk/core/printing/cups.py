"""Printing through the local CUPS server: queues from CUPS-Get-Printers, jobs over IPP.

The server address is configurable (``host:port``, default ``localhost:631``);
a queue ``NAME`` is printed to at ``ipp://HOST:PORT/printers/NAME``. When the
IPP listing fails, ``lpstat -e`` is tried.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from urllib.parse import quote

from kiosk.core.errors import PrinterError
from kiosk.core.options import PrintOptions
from kiosk.core.printing import ipp
from kiosk.core.printing.base import PrinterInfo, PrintJobHandle, PrintStatus
from kiosk.core.printing.ipp_printer import PRINTER_STATES, IppPrinter

log = logging.getLogger(__name__)


def queue_uri(server: str, queue: str) -> str:
    """ipp://server/printers/queue."""
    return f"ipp://{server.strip() or 'localhost:631'}/printers/{quote(queue, safe='')}"


def list_cups_printers(server: str = "localhost:631", timeout: float = 5.0) -> list[PrinterInfo]:
    """Queues of a CUPS server (CUPS-Get-Printers, then ``lpstat -e``).

    Raises:
        PrinterError: neither works.
    """
    uri = f"ipp://{server}/"
    operation = ipp.operation_attributes(
        uri,
        requested_attributes=(
            ipp.KEYWORD,
            ["printer-name", "printer-uri-supported", "printer-state", "printer-info", "printer-make-and-model"],
        ),
    )
    try:
        response = ipp.send(
            uri, ipp.encode_request(ipp.CUPS_GET_PRINTERS, [(ipp.OPERATION, operation)]), timeout=timeout
        )
        if response.ok or response.status == 0x0406:  # not-found: no queues
            printers = []
            for attrs in response.all(ipp.PRINTER):
                name = str((attrs.get("printer-name") or [""])[0])
                if name:
                    state = PRINTER_STATES.get(attrs.get("printer-state", [None])[0], "unknown")  # type: ignore[arg-type]
                    info = str((attrs.get("printer-info") or attrs.get("printer-make-and-model") or [""])[0])
                    printers.append(PrinterInfo(name=name, uri=queue_uri(server, name), state=state, info=info))
            return printers
        error = response.message
    except PrinterError as exc:
        error = str(exc)
    lpstat = shutil.which("lpstat")
    if lpstat:
        try:
            out = subprocess.run(
                [lpstat, "-h", server, "-e"], capture_output=True, text=True, timeout=timeout, check=True
            ).stdout
            return [PrinterInfo(name=n, uri=queue_uri(server, n)) for n in out.split() if n]
        except (OSError, subprocess.SubprocessError):
            pass
    raise PrinterError(f"cannot list the CUPS queues at {server}: {error}")


class CupsPrinter:
    """A CUPS queue, printed to over IPP."""

    def __init__(self, queue: str, server: str = "localhost:631", timeout: float = 10.0) -> None:
        if not queue:
            raise PrinterError("no CUPS queue is chosen")
        self.queue = queue
        self.server = server or "localhost:631"
        self.name = f"CUPS {queue}"
        self.uri = queue_uri(self.server, queue)
        self._ipp = IppPrinter(self.uri, timeout=timeout)

    def print_pdf(self, pdf: bytes | bytearray, options: PrintOptions, job_name: str) -> PrintJobHandle:
        """Raises: PrinterError."""
        return self._ipp.print_pdf(pdf, options, job_name)

    def status(self, handle: PrintJobHandle) -> PrintStatus:
        """Raises: PrinterError."""
        return self._ipp.status(handle)

    def cancel(self, handle: PrintJobHandle) -> None:
        """Raises: PrinterError."""
        self._ipp.cancel(handle)

    def purge(self, handle: PrintJobHandle) -> bool:
        """Cancel-Job with purge-job=true: CUPS deletes the job's document and history at once."""
        return self._ipp.purge(handle)

    def printer_attributes(self) -> dict[str, list[ipp.Value]]:
        """Get-Printer-Attributes of the queue (CUPS answers from the queue's driver). Raises: PrinterError."""
        return self._ipp.printer_attributes()

    def list_printers(self) -> list[PrinterInfo]:
        """Every queue of the CUPS server. Raises: PrinterError."""
        return list_cups_printers(self.server)
