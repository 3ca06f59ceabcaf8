"""A minimal ASGI app that reads a PUT body and answers 204: the floor of the upload
path under the bridge's server (``bench.bridge_upload_bench`` runs it under the same
gunicorn worker, ``web_bridge.server.BridgeWorker``). No ``run()`` here, so
``python -m bench`` skips this module."""

from __future__ import annotations

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Read the whole body (as the bridge must) and drop it."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
