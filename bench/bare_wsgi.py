"""A minimal WSGI app that reads a PUT body and answers 204: the floor of the upload
path under gunicorn (``bench.bridge_upload_bench`` runs it under the same gunicorn
as the bridge). No ``run()`` here, so ``python -m bench`` skips this module."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

CHUNK = 64 * 1024


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Read the whole body (as the bridge must) and drop it."""
    stream = environ["wsgi.input"]
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    while remaining > 0:
        chunk = stream.read(min(remaining, CHUNK))
        if not chunk:
            break
        remaining -= len(chunk)
    start_response("204 No Content", [("Content-Length", "0")])
    return [b""]
