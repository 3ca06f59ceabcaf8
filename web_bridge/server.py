"""The bridge's HTTP server: gunicorn's asyncio (ASGI) worker with a header deadline,
and every answer gunicorn writes itself carrying the security headers.

Production and ``cloudtab up`` run::

    gunicorn -k web_bridge.server.BridgeWorker --workers 4 --keep-alive 5 \\
        --bind 127.0.0.1:8080 --no-control-socket 'web_bridge.asgi:create_asgi_app()'

and ``cloudtab-bridge serve`` runs the same worker (:func:`serve`). The worker adds:

* a header deadline: a connection must deliver its first request's headers within
  ``CLOUDTAB_BRIDGE_HEADER_SECONDS`` (10 s) or is closed (408); later requests on a
  kept-alive connection are bounded by ``--keep-alive``. Slow headers (slowloris)
  therefore cost a socket for seconds, never a thread;
* gunicorn's own error answers (400 malformed request, 414, 431 header fields too
  large, 500, 501) as JSON with the security headers of every other response.

Slow bodies are :mod:`web_bridge.asgi`'s: a body is read on the event loop within its
time budget before a Flask thread is used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.asgi import protocol as gunicorn_protocol
from gunicorn.workers import gasgi

from web_bridge.security import STATIC_HEADERS

HEADER_SECONDS_DEFAULT = 10.0
ERROR_WORDS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    408: ("timeout", "The request took too long to arrive. Please try again."),
    413: ("too_large", "This request is too large."),
    414: ("uri_too_long", "The address is too long."),
    431: ("headers_too_large", "The request headers are too large."),
    500: ("internal", "Something went wrong on our side."),
    501: ("not_implemented", "This kind of request is not supported."),
    503: ("unavailable", "The service is busy. Please try again in a moment."),
}


def header_seconds() -> float:
    """The header deadline: CLOUDTAB_BRIDGE_HEADER_SECONDS, else 10 s."""
    value = os.environ.get("CLOUDTAB_BRIDGE_HEADER_SECONDS", "")
    try:
        return float(value) if value else HEADER_SECONDS_DEFAULT
    except ValueError:
        return HEADER_SECONDS_DEFAULT


class BridgeProtocol(gunicorn_protocol.ASGIProtocol):  # type: ignore[misc]
    """gunicorn's HTTP/1 protocol with a header deadline and our headers on its errors."""

    header_seconds = HEADER_SECONDS_DEFAULT

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._header_timer = None
        if self._callback_parser is not None:  # HTTP/1 (HTTP/2 has its own framing)
            self._header_timer = self.worker.loop.call_later(self.header_seconds, self._header_deadline)

    def _on_headers_complete(self) -> Any:
        self._cancel_header_timer()
        return super()._on_headers_complete()

    def _cancel_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _header_deadline(self) -> None:
        self._header_timer = None
        if self._closed or self._current_request is not None:
            return
        self._send_error_response(408, "")
        self._close_transport()
        if self._request_ready is not None:
            self._request_ready.set()  # the connection loop sees it closed and ends

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _send_error_response(self, status: int, message: str, extra_headers: Any = ()) -> None:
        code, words = ERROR_WORDS.get(status, ("error", "The request could not be served."))
        body = json.dumps({"error": code, "message": words}).encode()
        reason = gunicorn_protocol._REASON_PHRASES.get(status) or HTTPStatus(status).phrase
        lines = [
            f"HTTP/1.1 {status} {reason}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Cache-Control: no-store",
            *(f"{name}: {value}" for name, value in STATIC_HEADERS.items()),
            *(f"{name}: {value}" for name, value in extra_headers),
            "Connection: close",
        ]
        self._safe_write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self._safe_write(body)


class BridgeWorker(gasgi.ASGIWorker):  # type: ignore[misc]
    """gunicorn's ASGI worker serving connections with :class:`BridgeProtocol`."""

    def init_process(self) -> None:
        BridgeProtocol.header_seconds = header_seconds()
        # The worker builds ``ASGIProtocol(self)`` per connection by this module name.
        gasgi.ASGIProtocol = BridgeProtocol
        super().init_process()


class _Server(BaseApplication):  # type: ignore[misc]
    """gunicorn run from Python, with the bridge's ASGI app and worker."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self._options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from web_bridge.asgi import create_asgi_app

        return create_asgi_app()


def serve(bind: str, *, workers: int = 1, verbose: bool = False, **options: Any) -> None:
    """Serve the bridge (settings from CLOUDTAB_BRIDGE_*) on ``bind`` until SIGTERM/SIGINT."""
    _Server(
        {
            "bind": [bind],
            "workers": workers,
            "worker_class": "web_bridge.server.BridgeWorker",
            "keepalive": 5,
            "timeout": 30,
            "graceful_timeout": 5,
            "control_socket_disable": True,
            "loglevel": "info" if verbose else "warning",
            "accesslog": "-" if verbose else None,
            "errorlog": "-",
            **options,
        }
    ).run()
