"""Requests refused before Flask routes them: a Host header that is not a host name.

Werkzeug turns a Host label over 63 characters into an internal error while it
builds URLs, so the error page itself fails and goes out without the security
headers. :class:`HostGuard` answers such requests with a plain 400 carrying
the same headers as every other response.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from web_bridge.security import STATIC_HEADERS

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_PORT = re.compile(r"\d{1,5}")
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]{2,45}\]")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def valid_host(host: str) -> bool:
    """True for ``name[:port]``, ``IPv4[:port]`` or ``[IPv6][:port]`` (an empty Host too: HTTP/1.0)."""
    if not host:
        return True
    if host.startswith("["):
        address, bracket, rest = host.partition("]")
        return (
            bool(bracket)
            and bool(_IPV6.fullmatch(address + "]"))
            and (not rest or (rest[0] == ":" and bool(_PORT.fullmatch(rest[1:]))))
        )
    name, sep, port = host.partition(":")
    if sep and not _PORT.fullmatch(port):
        return False
    name = name.removesuffix(".")
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


class HostGuard:
    """WSGI middleware: 400 with the security headers for an invalid Host header."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if valid_host(str(environ.get("HTTP_HOST", ""))):
            return self.app(environ, start_response)
        body = json.dumps({"error": "bad_request", "message": "The Host header is not valid."}).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *STATIC_HEADERS.items(),
        ]
        start_response("400 Bad Request", headers)
        return [body]


def init_app(app: Flask) -> None:
    """Put the Host guard in front of the app (call before proxy middleware is added)."""
    app.wsgi_app = HostGuard(app.wsgi_app)  # type: ignore[method-assign]
