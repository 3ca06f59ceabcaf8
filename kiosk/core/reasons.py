"""The reasons the kiosk gives the relay when it declines a job on its own.

A fixed list of codes with fixed wording: nothing derived from a document
(file names, page numbers, a library's message) ever travels to the relay,
which keeps the reason for days. The shopkeeper's screen shows the detailed
error; the customer sees one of these sentences.
"""

from __future__ import annotations

from enum import StrEnum

from kiosk.core.errors import (
    DecryptError,
    DocumentError,
    DocumentTooLarge,
    PageRangeError,
    PasswordProtected,
    PrinterError,
    UnsupportedMedia,
)


class RejectReason(StrEnum):
    """Why the kiosk declined a job (the code; :data:`WORDING` holds the sentence)."""

    ALTERED = "altered"
    DAMAGED = "damaged"
    UNSUPPORTED = "unsupported"
    PASSWORD = "password"
    TOO_LARGE = "too-large"
    PAGES = "pages"
    OPTIONS = "options"
    PRINTER = "printer"
    INTERNAL = "internal"


WORDING: dict[RejectReason, str] = {
    RejectReason.ALTERED: "The job arrived altered or incomplete. Please send it again.",
    RejectReason.DAMAGED: "A file of this job is damaged and cannot be printed.",
    RejectReason.UNSUPPORTED: "A file of this job is of a type this shop cannot print.",
    RejectReason.PASSWORD: "A file of this job is password-protected. Please send an unprotected copy.",
    RejectReason.TOO_LARGE: "This job is too large or too complex for this shop's kiosk.",
    RejectReason.PAGES: "The pages you asked for are not in the document. Please check the page range.",
    RejectReason.OPTIONS: "The print options you asked for are not available at this shop.",
    RejectReason.PRINTER: "The shop's printer could not print this job. Please ask at the counter.",
    RejectReason.INTERNAL: "The shop's kiosk could not handle this job. Please ask at the counter.",
}


def reason_for(exc: BaseException) -> RejectReason:
    """The code for an error that made the kiosk decline a job."""
    for kind, reason in (
        (DecryptError, RejectReason.ALTERED),
        (PasswordProtected, RejectReason.PASSWORD),
        (UnsupportedMedia, RejectReason.UNSUPPORTED),
        (DocumentTooLarge, RejectReason.TOO_LARGE),
        (DocumentError, RejectReason.DAMAGED),
        (PageRangeError, RejectReason.PAGES),
        (PrinterError, RejectReason.PRINTER),
        (ValueError, RejectReason.OPTIONS),
    ):
        if isinstance(exc, kind):
            return reason
    return RejectReason.INTERNAL


def wording(reason: RejectReason) -> str:
    """The fixed sentence sent to the relay for ``reason``."""
    return WORDING[reason]
