"""Security headers on every response, HSTS only behind TLS, no path traversal."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from cloudtab_rpc.reasons import Reason
from tests.bridge.fake_relay import FakeRelay
from web_bridge import create_app
from web_bridge.security import CONTENT_SECURITY_POLICY

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


def _check_headers(headers: object) -> None:
    csp = headers["Content-Security-Policy"]  # type: ignore[index]
    assert csp.startswith(EXPECTED_CSP)
    assert "unsafe" not in csp
    assert headers["Referrer-Policy"] == "no-referrer"  # type: ignore[index]
    assert headers["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]
    assert "camera=()" in headers["Permissions-Policy"]  # type: ignore[index]
    assert "Strict-Transport-Security" not in headers  # type: ignore[operator]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/s/demo", 200),
        ("GET", "/s/unknown-shop", 404),
        ("GET", "/j/abcDEF123", 200),
        ("GET", "/api/shops/demo", 200),
        ("GET", "/api/shops/unknown", 404),
        ("GET", "/api/jobs", 405),
        ("POST", "/api/jobs", 415),
        ("GET", "/api/jobs/abc", 401),
        ("GET", "/static/css/app.css", 200),
        ("GET", "/static/js/upload.js", 200),
        ("GET", "/no/such/page", 404),
        ("GET", "/api/qr/ABC234.svg", 200),
    ],
)
def test_security_headers_on_every_response(client: FlaskClient, method: str, path: str, status: int) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    _check_headers(response.headers)


def test_headers_on_unexpected_errors(client: FlaskClient, fake_relay: FakeRelay) -> None:
    fake_relay.get_shop = None  # type: ignore[assignment,method-assign]  # TypeError in view
    response = client.get("/api/shops/demo")
    assert response.status_code == 500
    assert response.json == {"error": "internal", "message": "Something went wrong on our side."}
    _check_headers(response.headers)


def test_headers_on_relay_errors(client: FlaskClient, fake_relay: FakeRelay) -> None:
    fake_relay.fail_next["GetShop"] = Reason.INTERNAL
    response = client.get("/s/demo")
    assert response.status_code == 502
    assert "refused" not in response.get_data(as_text=True)
    _check_headers(response.headers)


def test_csp_constant_is_the_documented_policy() -> None:
    assert CONTENT_SECURITY_POLICY.startswith(EXPECTED_CSP)


def test_hsts_only_on_secure_requests(client: FlaskClient) -> None:
    secure = client.get("/", base_url="https://bridge.example")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]
    plain = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in plain.headers  # untrusted proxy header


def test_hsts_behind_trusted_proxy(fake_relay: FakeRelay) -> None:
    app = create_app({"TESTING": True, "RELAY_CLIENT": fake_relay, "PROXY_FIX_X_PROTO": 1})
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
    plain = app.test_client().get("/")
    assert "Strict-Transport-Security" not in plain.headers


def test_api_responses_are_not_cached(client: FlaskClient) -> None:
    assert client.get("/api/shops/demo").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    [
        "/s/../web_bridge/__init__.py",
        "/s/..%2F..%2Fetc%2Fpasswd",
        "/s/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/s/demo/../../etc/passwd",
        "/s/DEMO",
        "/s/-demo",
        "/j/..%2F..%2Fetc%2Fpasswd",
        "/j/a.b",
        "/static/../__init__.py",
        "/static/..%2F__init__.py",
        "/static/js/..%2F..%2F__init__.py",
        "/static/%2e%2e/templates/base.html",
        "/api/shops/..%2Fjobs",
        "/api/jobs/..%2F..%2Fx/files/0/offset",
        "/api/qr/..%2Fx.svg",
        "/api/qr/a%00b.svg",
    ],
)
def test_path_traversal_is_not_found(client: FlaskClient, fake_relay: FakeRelay, path: str) -> None:
    response = client.get(path, headers={"Authorization": "Bearer " + "a" * 43})
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "from __future__ import" not in body and "root:" not in body and "{%" not in body
    assert fake_relay.calls == []


def test_pages_have_no_inline_script_or_style(client: FlaskClient) -> None:
    for path in ("/", "/s/demo", "/j/abc", "/s/unknown"):
        html = client.get(path).get_data(as_text=True)
        # The one inline script is the import map (JSON, allowed by its hash; test_integrity).
        html = re.sub(r'<script type="importmap">\{[^<]*\}</script>', "", html, count=1)
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert all(' src="' in tag for tag in scripts), scripts
        assert re.findall(r"<script\b[^>]*>(?!</script>)", html) == []
        assert "<style" not in html
        assert " style=" not in html
        assert re.search(r"\son[a-z]+=", html) is None  # no inline event handlers
