"""Small ASGI helpers of the bridge: request facts from the scope, JSON error answers.

Every answer built here carries the same security headers as the Flask app's
(:func:`web_bridge.security.header_pairs`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from web_bridge.security import header_pairs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def header(scope: Scope, name: bytes) -> str | None:
    """The first request header ``name`` (lowercase bytes), decoded as latin-1."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def is_secure(scope: Scope, x_proto: int) -> bool:
    """True when the request came over TLS (or a trusted proxy says it did)."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    if x_proto:
        forwarded = [part.strip() for part in (header(scope, b"x-forwarded-proto") or "").split(",") if part.strip()]
        return len(forwarded) >= x_proto and forwarded[-x_proto] == "https"
    return False


def client_address(scope: Scope, x_for: int) -> str:
    """The client's address: the peer, or what ``x_for`` trusted proxies say (as werkzeug's ProxyFix)."""
    client = scope.get("client")
    peer = str(client[0]) if client else ""
    if x_for:
        forwarded = [part.strip() for part in (header(scope, b"x-forwarded-for") or "").split(",") if part.strip()]
        if len(forwarded) >= x_for:
            return forwarded[-x_for]
    return peer


def encode_headers(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Header pairs as ASGI wants them."""
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs]


async def send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    *,
    secure: bool = False,
    hsts_seconds: int = 0,
    extra: list[tuple[str, str]] | None = None,
) -> None:
    """A complete JSON answer with the security headers and ``Cache-Control: no-store``."""
    data = json.dumps(body, separators=(",", ":")).encode()
    pairs = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(data))),
        ("Cache-Control", "no-store"),
        *header_pairs(secure=secure, hsts_seconds=hsts_seconds),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": encode_headers(pairs)})
    await send({"type": "http.response.body", "body": data, "more_body": False})
