"""The one domain error of the relay: a reason from ``cloudtab_rpc.reasons`` plus words.

Domain modules raise ``RelayError(Reason.X, "message", key=value)``;
``relay_grpc.interceptors`` sends it as the reason's gRPC status with a
``google.rpc.ErrorInfo`` (reason + the metadata), so servicers hold no
try/except and clients never parse the message. The message is shown to the
client: never put a token, key or document byte in it. No grpc here.
"""

from __future__ import annotations

from cloudtab_rpc.reasons import Reason

__all__ = ["Reason", "RelayError", "state_error"]


class RelayError(Exception):
    """A refused call: ``reason`` decides the status; ``metadata`` goes to ErrorInfo.

    Raises:
        ValueError: (when built) a metadata key the reason does not declare, or a
            declared key missing, so the published contract cannot drift.
    """

    def __init__(self, reason: Reason, message: str, **metadata: object) -> None:
        super().__init__(message)
        declared = set(reason.spec.metadata)
        if set(metadata) != declared:
            raise ValueError(f"{reason} carries metadata {sorted(declared)}, got {sorted(metadata)}")
        self.reason = reason
        self.message = message
        self.metadata = {key: str(value) for key, value in metadata.items()}

    @property
    def status(self) -> str:
        """Name of the grpc.StatusCode member this error becomes."""
        return self.reason.status


def state_error(state: str, action: str) -> RelayError:
    """The error for a job whose state ``state`` (a JobState value) forbids ``action``.

    Expired -> JOB_EXPIRED; completed, rejected, cancelled -> JOB_TERMINAL; any
    other -> JOB_STATE_CONFLICT. ``state`` is sent as metadata.
    """
    if state == "expired":
        return RelayError(Reason.JOB_EXPIRED, f"the job expired; cannot {action}", state=state)
    if state in ("completed", "rejected", "cancelled"):
        return RelayError(Reason.JOB_TERMINAL, f"the job is already {state}; cannot {action}", state=state)
    return RelayError(Reason.JOB_STATE_CONFLICT, f"the job is {state}; cannot {action}", state=state)
