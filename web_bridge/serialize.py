"""Relay messages as the JSON the page reads. Never includes the sealed manifest."""

from __future__ import annotations

import base64
import json
from typing import Any

from cloudtab.v1 import common_pb2

TERMINAL_STATES = frozenset({"completed", "rejected", "cancelled", "expired"})


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def state_name(state: int) -> str:
    """``JOB_STATE_QUEUED`` -> ``"queued"``; unknown values -> ``"unknown"``."""
    try:
        name = common_pb2.JobState.Name(state)  # type: ignore[arg-type]
    except ValueError:
        return "unknown"
    return name.removeprefix("JOB_STATE_").lower()


def _time(message: Any, field: str) -> str | None:
    if not message.HasField(field):
        return None
    stamp = getattr(message, field)
    text: str = stamp.ToJsonString()
    return text


def shop_to_dict(shop: common_pb2.Shop) -> dict[str, Any]:
    """The public profile of a shop, for the page."""
    return {
        "slug": shop.slug,
        "display_name": shop.display_name,
        "public_key": b64url(shop.public_key),
        "key_fingerprint": shop.key_fingerprint.hex(),
        "key_fingerprint_display": shop.key_fingerprint_display,
        "limits": {
            "max_file_bytes": shop.limits.max_file_bytes,
            "max_job_bytes": shop.limits.max_job_bytes,
            "max_files_per_job": shop.limits.max_files_per_job,
            "max_chunk_bytes": shop.limits.max_chunk_bytes,
        },
        "accepted_media_types": list(shop.accepted_media_types),
        "retention_seconds": shop.retention_seconds,
        "online": shop.online,
        "capabilities": capabilities_to_dict(shop.capabilities) if shop.HasField("capabilities") else None,
        "kiosk_keys": [
            {
                "label": k.label,
                "public_key": b64url(k.public_key),
                "signing_key": b64url(k.signing_key),
                "key_fingerprint": k.key_fingerprint.hex(),
            }
            for k in shop.kiosk_keys
        ],
    }


def capabilities_to_dict(caps: common_pb2.ShopCapabilities) -> dict[str, Any]:
    """What the shop's printer offers and its price list, in the words of pricing.js."""
    return {
        "media": list(caps.media),
        "color": list(caps.color),
        "sides": list(caps.sides),
        "pages_per_sheet": list(caps.pages_per_sheet),
        "currency": caps.currency,
        "prices": [{"media": p.media, "color": p.color, "duplex": p.duplex, "amount": p.amount} for p in caps.prices],
        "accepted_media_types": list(caps.accepted_media_types),
    }


def job_to_dict(job: common_pb2.Job) -> dict[str, Any]:
    """A job's public state, for the page (no manifest: the customer never needs it)."""
    return {
        "job_id": job.job_id,
        "job_code": job.job_code,
        "state": state_name(job.state),
        "reason": job.reason,
        "files": [{"index": f.index, "size": f.size, "committed_size": f.committed_size} for f in job.files],
        "key_fingerprint": job.key_fingerprint.hex(),
        "create_time": _time(job, "create_time"),
        "submit_time": _time(job, "submit_time"),
        "expire_time": _time(job, "expire_time"),
        "update_time": _time(job, "update_time"),
        "statement": statement_to_dict(job.kiosk_statement) if job.HasField("kiosk_statement") else None,
    }


def statement_to_dict(statement: common_pb2.KioskStatement) -> dict[str, str]:
    """What the kiosk attached to the change, passed on unchanged (empty fields left out).

    ``wait_reason`` is the enum name in lower case without its prefix
    (``WAIT_REASON_PRINTER_OUT_OF_PAPER`` -> ``"printer_out_of_paper"``).
    """
    out: dict[str, str] = {}
    if statement.wait_reason:
        try:
            name = common_pb2.WaitReason.Name(statement.wait_reason)  # type: ignore[arg-type]
        except ValueError:
            name = "WAIT_REASON_UNKNOWN"
        out["wait_reason"] = name.removeprefix("WAIT_REASON_").lower()
    if statement.sealed_detail:
        out["sealed_detail"] = b64url(statement.sealed_detail)
    if statement.signature:
        out["signature"] = b64url(statement.signature)
    sign_time = _time(statement, "sign_time")
    if sign_time is not None:
        out["sign_time"] = sign_time
    if statement.kiosk_label:
        out["kiosk_label"] = statement.kiosk_label
    return out


def sse_message(event: str, data: dict[str, Any], event_id: int | None = None) -> str:
    """One server-sent event: ``id`` (when given), ``event`` and one line of JSON ``data``."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
