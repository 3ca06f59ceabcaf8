"""Per-RPC facts for the log line (method, shop, job, status), in a context variable.

Interceptors create it; servicers add the job id. No grpc import, so domain code
could annotate too.
"""

from __future__ import annotations

import contextvars
import dataclasses
from typing import Any


@dataclasses.dataclass
class CallInfo:
    """What one RPC is about; ``shop`` is the authenticated Shop row, if any."""

    method: str
    peer: str = ""
    shop: Any = None
    shop_slug: str = ""
    token: str | None = None
    job_id: str = ""
    code: str = "OK"
    reason: str = ""


_current: contextvars.ContextVar[CallInfo | None] = contextvars.ContextVar("cloudtab_call", default=None)


def begin(method: str, peer: str) -> CallInfo:
    """Start the call info of the current RPC."""
    info = CallInfo(method=method, peer=peer)
    _current.set(info)
    return info


def current() -> CallInfo:
    """The call info of the current RPC (a throwaway one outside an RPC)."""
    info = _current.get()
    if info is None:
        info = CallInfo(method="")
        _current.set(info)
    return info


def note_job(job_id: str) -> None:
    """Record the job this RPC is about (for the log line)."""
    current().job_id = job_id[:64]
