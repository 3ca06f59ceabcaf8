"""The reasons the kiosk gives the relay when it declines a job.

A fixed list of codes (``cloudtab_rpc.rejects``; the relay refuses any other
text): nothing derived from a document (file names, page numbers, a library's
message) and nothing typed ever travels to the relay in clear, which keeps the
reason for days. The shopkeeper's screen shows the detailed error and
:data:`WORDING`; the customer's page shows the code in its own words, and the
detail (which file, which page) sealed to the page (``kiosk.core.reply``).
"""

from __future__ import annotations

from cloudtab_rpc.rejects import RejectCode
from kiosk.core.errors import (
    DecryptError,
    DocumentError,
    DocumentTooLarge,
    PageRangeError,
    PasswordProtected,
    PrinterError,
    UnsupportedMedia,
)

RejectReason = RejectCode
"""Why the kiosk declined a job (the code; :data:`WORDING` holds the shop's sentence)."""

#: The reasons the shopkeeper picks from when declining by hand, in the order shown.
MANUAL: tuple[RejectReason, ...] = (
    RejectReason.UNSUPPORTED,
    RejectReason.DAMAGED,
    RejectReason.PASSWORD,
    RejectReason.PAGES,
    RejectReason.OPTIONS,
    RejectReason.PRINTER,
    RejectReason.COUNTER,
)


WORDING: dict[RejectReason, str] = {
    RejectReason.ALTERED: "The job arrived altered or incomplete. Please send it again.",
    RejectReason.DAMAGED: "A file of this job is damaged and cannot be printed.",
    RejectReason.UNSUPPORTED: "A file of this job is of a type this shop cannot print.",
    RejectReason.PASSWORD: "A file of this job is password-protected. Please send an unprotected copy.",
    RejectReason.TOO_LARGE: "This job is too large or too complex for this shop's kiosk.",
    RejectReason.PAGES: "The pages you asked for are not in the document. Please check the page range.",
    RejectReason.OPTIONS: "The print options you asked for are not available at this shop.",
    RejectReason.PRINTER: "The shop's printer could not print this job. Please ask at the counter.",
    RejectReason.COUNTER: "Please come to the counter about this job.",
    RejectReason.OLD_KEY: "The job is sealed to a key no counter of this shop has now (a removed or replaced kiosk).",
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
    """The shop's sentence for ``reason`` (the kiosk's screen; the page has its own words)."""
    return WORDING[reason]
