"""Security headers on every response, and trust of reverse-proxy headers.

The page runs the customer's encryption, so its script must be exactly what the bridge
serves: a strict Content-Security-Policy with no inline script or style, no eval and no
third-party host. ``Referrer-Policy: no-referrer`` keeps the page URL out of any request.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'; object-src 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

STATIC_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def header_pairs(*, secure: bool = False, hsts_seconds: int = 0) -> list[tuple[str, str]]:
    """The security headers of a response built outside Flask (live status, server errors)."""
    pairs = list(STATIC_HEADERS.items())
    if secure and hsts_seconds:
        pairs.append(("Strict-Transport-Security", f"max-age={hsts_seconds}; includeSubDomains"))
    return pairs


def add_security_headers(response: Response) -> Response:
    """Set the security headers on ``response`` (an ``after_request`` hook)."""
    for name, value in STATIC_HEADERS.items():
        response.headers[name] = value
    integrity = current_app.extensions.get("cloudtab_integrity")
    if integrity is not None:
        # The page's one inline script is its import map, allowed by its hash only.
        response.headers["Content-Security-Policy"] = (
            f"{CONTENT_SECURITY_POLICY}; script-src-elem 'self' {integrity.import_map_source}"
        )
    if request.is_secure:
        seconds = int(current_app.config["HSTS_SECONDS"])
        response.headers["Strict-Transport-Security"] = f"max-age={seconds}; includeSubDomains"
    if request.path.startswith("/api/"):
        # Job state and tokens must never sit in a shared or browser cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Install the header hook and, when configured, ProxyFix for trusted proxies.

    Raises:
        ValueError: if a PROXY_FIX_* setting is not an integer.
    """
    x_for = int(app.config["PROXY_FIX_X_FOR"])
    x_proto = int(app.config["PROXY_FIX_X_PROTO"])
    x_host = int(app.config["PROXY_FIX_X_HOST"])
    if x_for or x_proto or x_host:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=x_for, x_proto=x_proto, x_host=x_host
        )
    app.after_request(add_security_headers)
