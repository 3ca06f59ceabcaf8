"""Relay errors on the wire: ``google.rpc.Status`` with one ``ErrorInfo`` (grpcio-status).

The relay builds the trailing metadata with :func:`trailers`; the bridge and the
kiosk read any failed call with :func:`error_info`. A status without an
``ErrorInfo`` (a deadline or a dropped connection seen by the client itself) has
``reason`` None and is judged by its code alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from cloudtab_rpc.reasons import DOMAIN, Reason, parse


def trailers(reason: Reason, message: str, metadata: Mapping[str, str]) -> tuple[grpc.StatusCode, tuple]:
    """(status code, trailing metadata) carrying ``reason`` as a rich status."""
    code = getattr(grpc.StatusCode, reason.status)
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason.value, domain=DOMAIN, metadata=dict(metadata)))
    status = status_pb2.Status(code=code.value[0], message=message, details=[detail])
    return code, rpc_status.to_status(status).trailing_metadata


@dataclasses.dataclass(frozen=True)
class ErrorInfo:
    """What a client needs of a failed relay call."""

    code: grpc.StatusCode
    reason: Reason | None
    metadata: Mapping[str, str]
    message: str

    def number(self, key: str) -> int | None:
        """An integer metadata value (e.g. ``committed_offset``), or None."""
        value = self.metadata.get(key, "")
        return int(value) if value.isdigit() else None


def error_info(exc: grpc.RpcError) -> ErrorInfo:
    """The code, reason and metadata of a failed call (never raises)."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    message = (exc.details() if hasattr(exc, "details") else "") or ""
    try:
        status = rpc_status.from_call(exc) if hasattr(exc, "trailing_metadata") else None
    except ValueError:  # code or message disagree with the rich status: not ours
        status = None
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Is(info.DESCRIPTOR) and detail.Unpack(info) and info.domain == DOMAIN:
            return ErrorInfo(code, parse(info.reason), dict(info.metadata), message)
    return ErrorInfo(code or grpc.StatusCode.UNKNOWN, None, {}, message)
