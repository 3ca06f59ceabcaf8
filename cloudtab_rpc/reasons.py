"""Every machine-readable reason a relay error carries, and the status it goes with.

The relay sends each error as a ``google.rpc.Status`` whose details hold one
``google.rpc.ErrorInfo`` with ``domain`` :data:`DOMAIN`, ``reason`` one of the
:class:`Reason` names and string ``metadata`` (keys listed per reason). Clients
switch on the reason, never on the message text, which is for people.

To add a reason: add a member here with its status and metadata keys, the same
name to ``enum ErrorReason`` in ``protos/cloudtab/v1/errors.proto`` (with a
comment), a row to ``web_bridge.errors.REASON_ERRORS`` and to
``kiosk.core.relay`` if the kiosk treats it specially, and a case to
``tests/contract/test_reasons.py``. ``tests/contract`` fails until all agree.
No grpc here.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

DOMAIN = "cloudtab.v1"


class Spec(NamedTuple):
    """The gRPC status name of a reason and the metadata keys it always carries."""

    status: str
    metadata: tuple[str, ...] = ()


class Reason(enum.StrEnum):
    """Error reasons (``ErrorInfo.reason``); the value is the name."""

    # INVALID_ARGUMENT
    INVALID_REQUEST = "INVALID_REQUEST"
    # RESOURCE_EXHAUSTED
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    PAST_DECLARED_SIZE = "PAST_DECLARED_SIZE"
    RATE_LIMITED = "RATE_LIMITED"
    STORAGE_FULL = "STORAGE_FULL"
    # NOT_FOUND
    SHOP_NOT_FOUND = "SHOP_NOT_FOUND"
    JOB_NOT_FOUND = "JOB_NOT_FOUND"
    FILE_DATA_MISSING = "FILE_DATA_MISSING"
    # FAILED_PRECONDITION
    KEY_CHANGED = "KEY_CHANGED"
    KIOSK_TOO_OLD = "KIOSK_TOO_OLD"
    OFFSET_MISMATCH = "OFFSET_MISMATCH"
    FILES_INCOMPLETE = "FILES_INCOMPLETE"
    JOB_EXPIRED = "JOB_EXPIRED"
    JOB_TERMINAL = "JOB_TERMINAL"
    JOB_STATE_CONFLICT = "JOB_STATE_CONFLICT"
    # OUT_OF_RANGE
    NO_SUCH_FILE = "NO_SUCH_FILE"
    OFFSET_OUT_OF_RANGE = "OFFSET_OUT_OF_RANGE"
    # UNAUTHENTICATED
    TOKEN_INVALID = "TOKEN_INVALID"
    ENROLLMENT_CODE_INVALID = "ENROLLMENT_CODE_INVALID"
    # DEADLINE_EXCEEDED
    UPLOAD_IDLE = "UPLOAD_IDLE"
    # UNAVAILABLE
    BACKEND_UNAVAILABLE = "BACKEND_UNAVAILABLE"
    SHUTTING_DOWN = "SHUTTING_DOWN"
    # INTERNAL
    INTERNAL = "INTERNAL"
    # INVALID_ARGUMENT (a reject reason that is not a fixed code; cloudtab_rpc.rejects)
    REJECT_REASON_UNKNOWN = "REJECT_REASON_UNKNOWN"

    @property
    def spec(self) -> Spec:
        """Status and metadata keys of this reason."""
        return SPECS[self]

    @property
    def status(self) -> str:
        """Name of the ``grpc.StatusCode`` member this reason is sent with."""
        return SPECS[self].status


SPECS: dict[Reason, Spec] = {
    Reason.INVALID_REQUEST: Spec("INVALID_ARGUMENT", ("field",)),
    Reason.REJECT_REASON_UNKNOWN: Spec("INVALID_ARGUMENT"),
    Reason.LIMIT_EXCEEDED: Spec("RESOURCE_EXHAUSTED", ("limit", "max")),
    Reason.PAST_DECLARED_SIZE: Spec("RESOURCE_EXHAUSTED", ("size",)),
    Reason.RATE_LIMITED: Spec("RESOURCE_EXHAUSTED"),
    Reason.STORAGE_FULL: Spec("RESOURCE_EXHAUSTED"),
    Reason.SHOP_NOT_FOUND: Spec("NOT_FOUND"),
    Reason.JOB_NOT_FOUND: Spec("NOT_FOUND"),
    Reason.FILE_DATA_MISSING: Spec("NOT_FOUND"),
    Reason.KEY_CHANGED: Spec("FAILED_PRECONDITION"),
    Reason.KIOSK_TOO_OLD: Spec("FAILED_PRECONDITION", ("min_kiosk_version",)),
    Reason.OFFSET_MISMATCH: Spec("FAILED_PRECONDITION", ("committed_offset",)),
    Reason.FILES_INCOMPLETE: Spec("FAILED_PRECONDITION", ("file_indexes",)),
    Reason.JOB_EXPIRED: Spec("FAILED_PRECONDITION", ("state",)),
    Reason.JOB_TERMINAL: Spec("FAILED_PRECONDITION", ("state",)),
    Reason.JOB_STATE_CONFLICT: Spec("FAILED_PRECONDITION", ("state",)),
    Reason.NO_SUCH_FILE: Spec("OUT_OF_RANGE", ("file_index",)),
    Reason.OFFSET_OUT_OF_RANGE: Spec("OUT_OF_RANGE", ("size",)),
    Reason.TOKEN_INVALID: Spec("UNAUTHENTICATED"),
    Reason.ENROLLMENT_CODE_INVALID: Spec("UNAUTHENTICATED"),
    Reason.UPLOAD_IDLE: Spec("DEADLINE_EXCEEDED"),
    Reason.BACKEND_UNAVAILABLE: Spec("UNAVAILABLE"),
    Reason.SHUTTING_DOWN: Spec("UNAVAILABLE"),
    Reason.INTERNAL: Spec("INTERNAL"),
}


def parse(name: str) -> Reason | None:
    """The reason named ``name``, or None for an unknown one (a newer relay)."""
    try:
        return Reason(name)
    except ValueError:
        return None
