"""CloudTab web bridge: the customer's upload page and a JSON/binary bridge to the relay.

The bridge holds no customer data beyond the request in flight: a ciphertext chunk is
passed on to the relay's UploadFile once it has arrived, and the customer token travels
in each request's ``Authorization`` header only.

Configuration comes from ``test_config`` or from ``CLOUDTAB_BRIDGE_*`` environment
variables (``CLOUDTAB_BRIDGE_RELAY_ADDRESS=127.0.0.1:50051``; values are parsed as
JSON when they are valid JSON, so numbers and booleans work). ``create_app()`` is the
WSGI app; production serves it behind the ASGI front (:mod:`web_bridge.asgi`)::

    CLOUDTAB_BRIDGE_RELAY_ADDRESS=relay:50051 gunicorn -k web_bridge.server.BridgeWorker \\
        --workers 4 --keep-alive 5 -b 127.0.0.1:8080 'web_bridge.asgi:create_asgi_app()'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # gRPC address of the relay, HOST:PORT.
    "RELAY_ADDRESS": "127.0.0.1:50051",
    # Use TLS to the relay; RELAY_CA_FILE optionally names the trusted CA bundle.
    "RELAY_TLS": False,
    "RELAY_CA_FILE": None,
    # Deadline of unary relay calls and of one chunk's UploadFile stream, in seconds.
    "RELAY_TIMEOUT": 10.0,
    "RELAY_UPLOAD_TIMEOUT": 300.0,
    # Largest request body in general (JSON, sealed manifest) and of one upload chunk.
    "MAX_CONTENT_LENGTH": 256 * 1024,
    "MAX_UPLOAD_CHUNK_BYTES": 8 * 1024 * 1024,
    # Size of the pieces a chunk is cut into for the relay's UploadFile messages.
    "UPLOAD_PIECE_BYTES": 1024 * 1024,
    # Job creation per client IP; flask-limiter syntax and storage URI.
    "JOB_CREATE_LIMIT": "10 per minute",
    "RATELIMIT_STORAGE_URI": "memory://",
    # Seconds a shop profile is cached for size checks.
    "SHOP_CACHE_SECONDS": 30.0,
    # Longest life of one server-sent-events response; the page reconnects after it.
    "SSE_MAX_SECONDS": 55.0,
    "SSE_MAX_PER_JOB": 4,  # live status streams of one job at once (more: 429, the page polls)
    "SSE_MAX_PER_CLIENT": 8,  # ... from one client address
    # Served as ASGI (web_bridge.asgi): threads running the Flask routes (live status
    # needs none), and the time a request body may take: BODY_SECONDS plus one second
    # per BODY_MIN_RATE bytes (a slower body is answered 408).
    "WSGI_THREADS": 32,
    "BODY_SECONDS": 20.0,
    "BODY_MIN_RATE": 16384,
    # Trusted reverse proxies in front of the bridge (werkzeug ProxyFix counts).
    "PROXY_FIX_X_FOR": 0,
    "PROXY_FIX_X_PROTO": 0,
    "PROXY_FIX_X_HOST": 0,
    # Send HSTS on secure requests.
    "HSTS_SECONDS": 31536000,
}


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the bridge application.

    Args:
        test_config: settings that replace the defaults and the environment.

    Raises:
        ValueError: if a setting is malformed (e.g. a rate limit string).
    """
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_prefixed_env("CLOUDTAB_BRIDGE")
    else:
        app.config.from_mapping(test_config)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from web_bridge import (
        api,
        edges,
        errors,
        i18n,
        integrity,
        limits,
        pages,
        relay_client,
        security,
        stream_slots,
        transfer,
    )

    edges.init_app(app)  # inside ProxyFix: a forwarded Host is checked too
    security.init_app(app)
    integrity.init_app(app)
    i18n.init_app(app)
    relay_client.init_app(app)
    stream_slots.init_app(app)
    errors.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(transfer.bp)
    limits.init_app(app)  # after the blueprints: it wraps their views
    return app
