"""Why a job waits, from a fixed list: the only printer news the customer's page gets.

The values are the names of ``cloudtab.v1.WaitReason`` without the
``WAIT_REASON_`` prefix, in lower case: the form the bridge puts in the
status JSON (``statement.wait_reason``). A fixed list means nothing from a
document, a file name or a printer's own message can travel this way.
"""

from __future__ import annotations

from enum import StrEnum


class WaitReason(StrEnum):
    """Why a job the shop has taken is not printed yet."""

    UNSPECIFIED = "unspecified"
    PRINTER_OUT_OF_PAPER = "printer_out_of_paper"
    PRINTER_PAPER_JAM = "printer_paper_jam"
    PRINTER_OUT_OF_TONER = "printer_out_of_toner"
    PRINTER_DOOR_OPEN = "printer_door_open"
    PRINTER_OFFLINE = "printer_offline"
    PRINTER_PAUSED = "printer_paused"
    PRINTER_NEEDS_ATTENTION = "printer_needs_attention"
    PRINTING_SLOW = "printing_slow"

    @property
    def proto_name(self) -> str:
        """The enum value's name in common.proto (WAIT_REASON_PRINTER_OUT_OF_PAPER)."""
        return f"WAIT_REASON_{self.value.upper()}"
