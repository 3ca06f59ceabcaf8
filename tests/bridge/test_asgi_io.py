"""Request facts the ASGI front reads itself (web_bridge.asgi_io): the client address and
TLS as werkzeug's ProxyFix would see them, for the stream caps and HSTS."""

from __future__ import annotations

from web_bridge.asgi_io import client_address, is_secure


def _scope(scheme: str = "http", **headers: str) -> dict[str, object]:
    return {
        "scheme": scheme,
        "client": ("10.0.0.9", 5555),
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


def test_forwarded_addresses_count_only_from_trusted_proxies() -> None:
    scope = _scope(x_forwarded_for="203.0.113.7, 198.51.100.2")
    assert client_address(scope, 0) == "10.0.0.9"  # no trusted proxy: the peer
    assert client_address(scope, 1) == "198.51.100.2"  # the one our proxy saw
    assert client_address(scope, 2) == "203.0.113.7"
    assert client_address(_scope(), 1) == "10.0.0.9"  # nothing forwarded
    assert not is_secure(_scope(x_forwarded_proto="https"), 0)
    assert is_secure(_scope(x_forwarded_proto="https"), 1) and is_secure(_scope("https"), 0)
