"""The fixed list of reasons a shop may give when it declines a job (``RejectJobRequest.reason``).

The reason on the wire is exactly one of these codes: the relay refuses any
other text (``Reason.REJECT_REASON_UNKNOWN``), so nothing a shopkeeper typed
and nothing derived from a document (file names, page numbers, a library's
message) is stored by the relay. The customer's page shows each code in its
own words from the message catalogues; details for the customer (which file,
which page) travel sealed to the page (docs/envelope.md §5.1). No grpc here.
"""

from __future__ import annotations

from enum import StrEnum


class RejectCode(StrEnum):
    """Why a job was declined; the value is the code sent to the relay."""

    ALTERED = "altered"
    DAMAGED = "damaged"
    UNSUPPORTED = "unsupported"
    PASSWORD = "password"
    TOO_LARGE = "too-large"
    PAGES = "pages"
    OPTIONS = "options"
    PRINTER = "printer"
    COUNTER = "counter"
    OLD_KEY = "old-key"  # sealed to keys no active kiosk of the shop holds (removed or replaced)
    INTERNAL = "internal"


CODES: frozenset[str] = frozenset(code.value for code in RejectCode)


def parse(text: str) -> RejectCode | None:
    """The code ``text`` names exactly, or None."""
    try:
        return RejectCode(text)
    except ValueError:
        return None
