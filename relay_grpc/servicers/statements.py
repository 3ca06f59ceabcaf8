"""The kiosk's statement on a job change: checked at the boundary, then stored as opaque bytes."""

from __future__ import annotations

from cloudtab.v1 import common_pb2
from google.protobuf.message import Message

from relay_grpc.errors import Reason, RelayError

MAX_SEALED_DETAIL_BYTES = 4096
MAX_SIGNATURE_BYTES = 160
MAX_KIOSK_LABEL_CHARS = 40


def statement_bytes(request: Message) -> bytes:
    """The serialized ``kiosk_statement`` of an UpdateJob, CompleteJob or RejectJob
    request (b"" when unset). Only sizes and the enum are checked: the relay cannot
    read the sealed detail and does not verify the signature (the customer's page does).

    Raises:
        RelayError INVALID_REQUEST: a field over its limit or an unknown wait reason
            (``field`` names it).
    """
    if not request.HasField("kiosk_statement"):
        return b""
    statement: common_pb2.KioskStatement = request.kiosk_statement  # type: ignore[attr-defined]
    if statement.wait_reason not in common_pb2.WaitReason.values():
        raise _invalid("kiosk_statement.wait_reason", "is not a known wait reason")
    if len(statement.sealed_detail) > MAX_SEALED_DETAIL_BYTES:
        raise _invalid("kiosk_statement.sealed_detail", f"is over {MAX_SEALED_DETAIL_BYTES} bytes")
    if len(statement.signature) > MAX_SIGNATURE_BYTES:
        raise _invalid("kiosk_statement.signature", f"is over {MAX_SIGNATURE_BYTES} bytes")
    if len(statement.kiosk_label) > MAX_KIOSK_LABEL_CHARS:
        raise _invalid("kiosk_statement.kiosk_label", f"is over {MAX_KIOSK_LABEL_CHARS} characters")
    return statement.SerializeToString(deterministic=True)


def _invalid(field: str, problem: str) -> RelayError:
    return RelayError(Reason.INVALID_REQUEST, f"{field} {problem}", field=field)
