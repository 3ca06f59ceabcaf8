"""The bridge as one ASGI application: live status on the event loop, the rest in Flask.

``create_asgi_app()`` is what gunicorn serves (``-k web_bridge.server.BridgeWorker``, see
:mod:`web_bridge.server`). Requests are dispatched as follows:

* a Host header that is not a host name: 400 here, with the security headers;
* ``GET`` (and ``HEAD``) ``/api/jobs/<id>/events``: :class:`~web_bridge.live_status.LiveStatus`, a
  coroutine per stream and one relay watch per job (no thread);
* everything else: the Flask app in a pool of WSGI_THREADS threads. The request body is
  read on the event loop first (held in memory up to 1 MiB, beyond in a temporary file,
  at most MAX_UPLOAD_CHUNK_BYTES), within BODY_SECONDS plus one second per
  BODY_MIN_RATE bytes: a slow-body client holds a coroutine, never a thread, and is
  answered 408 when its time is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from flask import Flask

from web_bridge import create_app
from web_bridge.asgi_io import Receive, Scope, Send, header, is_secure, send_json
from web_bridge.edges import valid_host
from web_bridge.live_status import EVENTS_PATH, LiveStatus

logger = logging.getLogger(__name__)

SPOOL_BYTES = 1024 * 1024


class _TooLarge(Exception):
    pass


class BridgeAsgi:
    """ASGI front of one bridge process."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        self.flask = app
        self.live = LiveStatus(app)
        self.pool = ThreadPoolExecutor(int(config["WSGI_THREADS"]), thread_name_prefix="bridge-wsgi")
        self.body_limit = max(int(config["MAX_CONTENT_LENGTH"]), int(config["MAX_UPLOAD_CHUNK_BYTES"]))
        self.body_seconds = float(config["BODY_SECONDS"])
        self.body_min_rate = float(config["BODY_MIN_RATE"])
        self.hsts_seconds = int(config["HSTS_SECONDS"])
        self.x_proto = int(config["PROXY_FIX_X_PROTO"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return  # no websockets here: the server closes the connection
        secure = is_secure(scope, self.x_proto)
        if not valid_host(header(scope, b"host") or ""):
            await self._json(send, 400, "bad_request", "The Host header is not valid.", secure)
            return
        events = EVENTS_PATH.fullmatch(str(scope.get("path", "")))
        if events is not None and scope.get("method") in ("GET", "HEAD"):
            await self.live(scope, receive, send, events.group(1), head=scope.get("method") == "HEAD")
            return
        await self._wsgi(scope, receive, send, secure)

    async def _json(self, send: Send, status: int, error: str, message: str, secure: bool) -> None:
        body = {"error": error, "message": message}
        await send_json(
            send, status, body, secure=secure, hsts_seconds=self.hsts_seconds, extra=[("Connection", "close")]
        )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Close the live status watches and the thread pool."""
        await self.live.aclose()
        self.pool.shutdown(wait=False, cancel_futures=True)

    # --- the Flask part -----------------------------------------------------------

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[IO[bytes], int] | None:
        """The whole body, or None when the client left.

        Raises:
            _TooLarge: past the largest body any route takes.
            TimeoutError: the body did not arrive in time.
        """
        declared = header(scope, b"content-length")
        expected = int(declared) if declared is not None and declared.isdigit() else self.body_limit
        if expected > self.body_limit:
            raise _TooLarge
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (handed to Flask)
        size = 0
        try:
            async with asyncio.timeout(self.body_seconds + expected / self.body_min_rate):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        spool.close()
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.body_limit:
                        raise _TooLarge
                    spool.write(chunk)
                    if not message.get("more_body", False):
                        break
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool, size

    async def _wsgi(self, scope: Scope, receive: Receive, send: Send, secure: bool) -> None:
        try:
            body = await self._read_body(scope, receive)
        except _TooLarge:
            await self._json(send, 413, "too_large", "This upload is too large.", secure)
            return
        except TimeoutError:
            await self._json(send, 408, "timeout", "The request took too long to arrive. Please try again.", secure)
            return
        if body is None:  # the client left, or its body stalled past the server's idle limit
            with contextlib.suppress(OSError):
                await self._json(send, 408, "timeout", "The request took too long to arrive. Please try again.", secure)
            return
        spool, size = body
        loop = asyncio.get_running_loop()
        try:
            environ = _environ(scope, spool, size)
            started: dict[str, Any] = {}
            result, iterator = await loop.run_in_executor(self.pool, _start, self.flask, environ, started)
            try:
                chunk, done = await loop.run_in_executor(self.pool, _pull, iterator)
                status = int(str(started["status"]).split(" ", 1)[0])
                headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in started["headers"]]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                while True:
                    await send({"type": "http.response.body", "body": chunk, "more_body": not done})
                    if done:
                        break
                    chunk, done = await loop.run_in_executor(self.pool, _pull, iterator)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    await loop.run_in_executor(self.pool, close)
        finally:
            spool.close()


def _environ(scope: Scope, body: IO[bytes], size: int) -> dict[str, Any]:
    """The WSGI environ of an ASGI HTTP request whose body is already read."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": str(scope.get("root_path", "")).encode().decode("latin-1"),
        "PATH_INFO": str(scope["path"]).encode().decode("latin-1"),
        "QUERY_STRING": bytes(scope.get("query_string", b"")).decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(size),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    raw_path = scope.get("raw_path")
    if raw_path:
        query = environ["QUERY_STRING"]
        environ["REQUEST_URI"] = bytes(raw_path).decode("latin-1") + (f"?{query}" if query else "")
    for raw_name, raw_value in scope.get("headers", ()):
        name = bytes(raw_name).decode("latin-1").upper().replace("-", "_")
        value = bytes(raw_value).decode("latin-1")
        if name in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue  # the body is read: its length is known
        key = name if name == "CONTENT_TYPE" else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _start(app: Flask, environ: dict[str, Any], started: dict[str, Any]) -> tuple[Iterable[bytes], Iterator[bytes]]:
    """Call the WSGI app (in a pool thread); ``started`` gets its status and headers."""

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started["status"], started["headers"] = status, headers

        def write(_data: bytes) -> None:
            raise RuntimeError("write() is not supported")

        return write

    result = app.wsgi_app(environ, start_response)
    return result, iter(result)


def _pull(iterator: Iterator[bytes]) -> tuple[bytes, bool]:
    """The next piece of the response (in a pool thread), and whether it was the last.

    One piece at a time, so a streamed response goes out as it is produced."""
    for part in iterator:
        if part:
            return part, False
    return b"", True


def create_asgi_app(test_config: Mapping[str, Any] | None = None) -> BridgeAsgi:
    """The bridge as an ASGI application (settings as :func:`web_bridge.create_app`)."""
    return BridgeAsgi(create_app(test_config))
