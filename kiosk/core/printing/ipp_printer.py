"""IPP Everywhere printing straight to a network printer URL (ipp://host:631/ipp/print)."""

from __future__ import annotations

import logging
from typing import Any

from kiosk.core.errors import PageRangeError, PrinterError
from kiosk.core.options import PrintOptions, page_range_spans
from kiosk.core.printing import ipp, words
from kiosk.core.printing.base import (
    PrinterInfo,
    PrintJobHandle,
    PrintState,
    PrintStatus,
)

log = logging.getLogger(__name__)

MEDIA_KEYWORDS = {
    "A4": "iso_a4_210x297mm",
    "Letter": "na_letter_8.5x11in",
    "A3": "iso_a3_297x420mm",
    "Legal": "na_legal_8.5x14in",
}
PRINTER_STATES = {3: "idle", 4: "processing", 5: "stopped"}
MAX_PAGE_NUMBER = 1_000_000
ORIENTATION_ENUMS = {"portrait": 3, "landscape": 4}  # RFC 8011 orientation-requested


def ipp_attributes(options: PrintOptions) -> dict[str, Any]:
    """The IPP job attributes for print options (page-ranges as (first, last) 1-based pairs).

    Raises:
        ValueError: invalid options; PageRangeError: malformed page ranges.
    """
    options.validate()
    attrs: dict[str, Any] = {
        "copies": options.copies,
        "sides": options.sides,
        "print-color-mode": options.color,
        "media": MEDIA_KEYWORDS[options.media],
    }
    if options.page_ranges.strip():
        spans = page_range_spans(options.page_ranges, MAX_PAGE_NUMBER)
        attrs["page-ranges"] = [(start + 1, stop) for start, stop in spans]
    if options.pages_per_sheet != 1:
        attrs["number-up"] = options.pages_per_sheet
    if options.orientation != "portrait":
        attrs["orientation-requested"] = ORIENTATION_ENUMS[options.orientation]
    return attrs


def job_attribute_list(options: PrintOptions) -> list[ipp.Attribute]:
    """ipp_attributes as wire attributes for the job-attributes group."""
    mapping = ipp_attributes(options)
    attrs = [
        ipp.Attribute("copies", ipp.INTEGER, [mapping["copies"]]),
        ipp.Attribute("sides", ipp.KEYWORD, [mapping["sides"]]),
        ipp.Attribute("print-color-mode", ipp.KEYWORD, [mapping["print-color-mode"]]),
        ipp.Attribute("media", ipp.KEYWORD, [mapping["media"]]),
    ]
    if "page-ranges" in mapping:
        attrs.append(ipp.Attribute("page-ranges", ipp.RANGE, list(mapping["page-ranges"])))
    if "number-up" in mapping:
        attrs.append(ipp.Attribute("number-up", ipp.INTEGER, [mapping["number-up"]]))
    if "orientation-requested" in mapping:
        attrs.append(ipp.Attribute("orientation-requested", ipp.ENUM, [mapping["orientation-requested"]]))
    return attrs


def status_from_job(attrs: dict[str, list[ipp.Value]]) -> PrintStatus:
    """PrintStatus from Get-Job-Attributes job attributes (message in plain words, keywords on ``reasons``)."""
    state = attrs.get("job-state", [None])[0]
    reasons = tuple(str(r) for r in attrs.get("job-state-reasons", []) if r and r != "none")
    number = state if isinstance(state, int) else None
    message = words.job_words(number, reasons)
    if number in (3, 4):
        return PrintStatus(PrintState.PENDING, message, reasons)
    if number in (5, 6):
        return PrintStatus(PrintState.PROCESSING, message, reasons)
    if number == 9:
        return PrintStatus(PrintState.COMPLETED, message, reasons)
    if number in (7, 8):
        return PrintStatus(PrintState.FAILED, message, reasons)
    return PrintStatus(PrintState.PENDING, message, reasons)


class IppPrinter:
    """A printer spoken to over IPP (IPP Everywhere, or a CUPS queue URI)."""

    def __init__(self, uri: str, timeout: float = 10.0, user: str = "cloudtab-kiosk") -> None:
        ipp.http_url(uri)  # validates
        self.uri = uri
        self.name = uri
        self.timeout = timeout
        self.user = user

    def print_pdf(self, pdf: bytes | bytearray, options: PrintOptions, job_name: str) -> PrintJobHandle:
        """Print-Job with document-format application/pdf.

        Raises:
            PrinterError: unreachable, refused (e.g. unsupported media), or invalid options.
        """
        try:
            job_attrs = job_attribute_list(options)
        except (ValueError, PageRangeError) as exc:
            raise PrinterError(f"invalid print options: {exc}") from None
        operation = ipp.operation_attributes(
            self.uri,
            self.user,
            job_name=(ipp.NAME, [job_name[:255] or "cloudtab"]),
            document_format=(ipp.MIME, ["application/pdf"]),
        )
        body = ipp.encode_request(ipp.PRINT_JOB, [(ipp.OPERATION, operation), (ipp.JOB, job_attrs)])
        response = ipp.send(self.uri, body, pdf, timeout=max(self.timeout, 10.0 + len(pdf) / 1e6))
        if not response.ok:
            raise PrinterError(f"the printer refused the job: {response.message}")
        job_id = response.value(ipp.JOB, "job-id")
        if not isinstance(job_id, int):
            raise PrinterError("the printer accepted the job but sent no job id")
        job_uri = str(response.value(ipp.JOB, "job-uri") or "")
        log.info("printer %s accepted job %s", self.uri, job_id)
        return PrintJobHandle(printer=self.uri, job_id=job_id, uri=job_uri)

    def status(self, handle: PrintJobHandle) -> PrintStatus:
        """Get-Job-Attributes -> state.

        Raises:
            PrinterError: the printer cannot be asked.
        """
        operation = ipp.operation_attributes(
            handle.printer,
            self.user,
            job_id=(ipp.INTEGER, [int(handle.job_id)]),
            requested_attributes=(ipp.KEYWORD, ["job-state", "job-state-reasons", "job-state-message"]),
        )
        response = ipp.send(
            handle.printer,
            ipp.encode_request(ipp.GET_JOB_ATTRIBUTES, [(ipp.OPERATION, operation)]),
            timeout=self.timeout,
        )
        if not response.ok:
            if response.status == 0x0406:
                return PrintStatus(PrintState.FAILED, "The printer no longer knows this job")
            raise PrinterError(f"cannot read the job state: {response.message}")
        return status_from_job(response.first(ipp.JOB))

    def cancel(self, handle: PrintJobHandle) -> None:
        """Cancel-Job: stop a job that is still waiting or printing.

        Raises:
            PrinterError: unreachable, or the printer refused (e.g. already finished).
        """
        response = self._cancel(handle, purge=False)
        if not response.ok:
            raise PrinterError(f"the printer did not cancel the job: {response.message}")

    def purge(self, handle: PrintJobHandle) -> bool:
        """Cancel-Job with purge-job: the print system forgets the job and deletes its document.

        CUPS keeps a printed document for a day by default (PreserveJobFiles);
        purge-job removes it and the job's history at once. Best effort: a
        printer that does not know the attribute or the job answers an error,
        reported as False.
        """
        try:
            response = self._cancel(handle, purge=True)
        except PrinterError as exc:
            log.info("purge of job %s failed: %s", handle.job_id, exc)
            return False
        if not response.ok:
            log.info("purge of job %s refused: %s", handle.job_id, response.message)
        return response.ok

    def _cancel(self, handle: PrintJobHandle, purge: bool) -> ipp.IppResponse:
        extra: dict[str, Any] = {"job_id": (ipp.INTEGER, [int(handle.job_id)])}
        if purge:
            extra["purge_job"] = (ipp.BOOLEAN, [True])
        operation = ipp.operation_attributes(handle.printer, self.user, **extra)
        return ipp.send(
            handle.printer, ipp.encode_request(ipp.CANCEL_JOB, [(ipp.OPERATION, operation)]), timeout=self.timeout
        )

    def printer_attributes(self) -> dict[str, list[ipp.Value]]:
        """Get-Printer-Attributes (a fixed list of attributes).

        Raises:
            PrinterError: unreachable or refused.
        """
        operation = ipp.operation_attributes(
            self.uri,
            self.user,
            requested_attributes=(
                ipp.KEYWORD,
                [
                    "printer-name",
                    "printer-state",
                    "printer-state-reasons",
                    "printer-info",
                    "printer-make-and-model",
                    "printer-is-accepting-jobs",
                    "document-format-supported",
                    "media-supported",
                    "sides-supported",
                    "print-color-mode-supported",
                    "copies-supported",
                    "color-supported",
                    "number-up-supported",
                    "finishings-supported",
                    "printer-state-message",
                    "marker-names",
                    "marker-levels",
                    "marker-low-levels",
                    "marker-types",
                ],
            ),
        )
        response = ipp.send(
            self.uri, ipp.encode_request(ipp.GET_PRINTER_ATTRIBUTES, [(ipp.OPERATION, operation)]), timeout=self.timeout
        )
        if not response.ok:
            raise PrinterError(f"the printer refused Get-Printer-Attributes: {response.message}")
        return response.first(ipp.PRINTER)

    def list_printers(self) -> list[PrinterInfo]:
        """This one printer, with its state.

        Raises:
            PrinterError: unreachable.
        """
        attrs = self.printer_attributes()
        state = attrs.get("printer-state", [None])[0]
        name = str((attrs.get("printer-name") or [self.uri])[0])
        info = str((attrs.get("printer-make-and-model") or attrs.get("printer-info") or [""])[0])
        return [PrinterInfo(name=name, uri=self.uri, state=PRINTER_STATES.get(state, "unknown"), info=info)]  # type: ignore[arg-type]
