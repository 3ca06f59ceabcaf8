"""Hostile HTTP input to the web bridge: headers, oversized and malformed JSON,
path traversal, the job-creation rate limit (docs/security.md T21-T24).

Flask's test client with ``create_app``; the relay address points at a closed
port, so any request that reaches the relay fails with 503, never with data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.fixtures.services import free_port

FAKE_TOKEN = "A" * 43
JOB = "0123456789abcdef0123456789abcdef"
FINGERPRINT = "ab" * 32


@pytest.fixture
def app() -> Iterator[Flask]:
    from web_bridge import create_app

    app = create_app(
        {
            "TESTING": True,
            "RELAY_ADDRESS": f"127.0.0.1:{free_port()}",
            "RELAY_TIMEOUT": 2.0,
            "JOB_CREATE_LIMIT": "3 per minute",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# Every kind of response: pages, static, API errors, method errors, too large.
RESPONSES = [
    ("GET", "/", {}),
    ("GET", "/static/js/envelope.js", {}),
    ("GET", "/static/does-not-exist.js", {}),
    ("GET", "/nope", {}),
    ("GET", "/s/Not_A_Slug", {}),
    ("GET", f"/j/{JOB}", {}),
    ("GET", f"/api/jobs/{JOB}", {}),
    ("GET", f"/api/jobs/{JOB}", {"headers": {"Authorization": "Bearer " + FAKE_TOKEN}}),
    ("DELETE", "/api/jobs", {}),
    ("POST", "/api/jobs", {"data": "{", "content_type": "application/json"}),
    ("POST", "/api/jobs", {"data": "x" * (300 * 1024), "content_type": "application/json"}),
    ("GET", "/api/qr/ABC234.svg", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), RESPONSES, ids=[f"{m} {p[:40]}" for m, p, _ in RESPONSES])
def test_security_headers_on_every_response(client: FlaskClient, method: str, path: str, kwargs: dict) -> None:
    response = client.open(path, method=method, **kwargs)
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("default-src") == "default-src 'self'", csp
    assert "frame-ancestors 'none'" in csp
    for forbidden in ("unsafe-inline", "unsafe-eval", "http:", "https:", "*"):
        assert forbidden not in csp, f"{forbidden} in CSP of {path}"
    assert response.headers.get("Referrer-Policy") == "no-referrer"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    if path.startswith("/api/"):
        assert "no-store" in response.headers.get("Cache-Control", "") or path.startswith("/api/qr/")
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS


def test_hsts_when_served_over_tls(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://bridge.example")
    assert "max-age=" in response.headers.get("Strict-Transport-Security", "")


def test_pages_carry_no_inline_script_or_style(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True) + client.get(f"/j/{JOB}").get_data(as_text=True)
    import re

    # The one inline script per page is the import map (JSON, allowed by its hash only).
    html = re.sub(r'<script type="importmap">\{[^<]*\}</script>', "", html)
    for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.DOTALL | re.IGNORECASE):
        assert tag.strip() == "", "inline script content"
    assert not re.search(r"<style\b", html, flags=re.IGNORECASE)
    assert not re.search(r"\son[a-z]+\s*=", html, flags=re.IGNORECASE), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html, flags=re.IGNORECASE), "inline style attribute"


def test_oversized_json_is_413(client: FlaskClient) -> None:
    body = json.dumps({"shop": "corner", "file_sizes": [1] * 100_000, "key_fingerprint": FINGERPRINT})
    assert len(body) > 256 * 1024
    response = client.post("/api/jobs", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"


def test_oversized_sealed_manifest_is_413(client: FlaskClient) -> None:
    response = client.post(
        f"/api/jobs/{JOB}/submit",
        data=b"\0" * (64 * 1024 + 1),
        content_type="application/octet-stream",
        headers={"Authorization": "Bearer " + FAKE_TOKEN},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        "{",
        "[1, 2]",
        "null",
        '"text"',
        '{"shop": "x", "file_sizes": "many"}',
        '{"shop": "corner", "file_sizes": [-1], "key_fingerprint": "' + FINGERPRINT + '"}',
        '{"shop": "corner", "file_sizes": [1e309], "key_fingerprint": "' + FINGERPRINT + '"}',
        '{"shop": "corner", "file_sizes": [1], "key_fingerprint": "zz"}',
        '{"shop": "corner", "file_sizes": [], "key_fingerprint": "' + FINGERPRINT + '"}',
        "\xff\xfe garbage",
    ],
    ids=lambda b: b[:24],
)
def test_malformed_json_is_400(app: Flask, body: str) -> None:
    response = app.test_client().post(
        "/api/jobs", data=body.encode("utf-8", "surrogateescape"), content_type="application/json"
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    payload = response.get_json()
    assert set(payload) >= {"error", "message"}
    assert "Traceback" not in response.get_data(as_text=True)


def test_wrong_content_type_is_415(client: FlaskClient) -> None:
    response = client.post("/api/jobs", data="shop=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


@pytest.mark.parametrize(
    "path",
    [
        "/static/../__init__.py",
        "/static/..%2f__init__.py",
        "/static/%2e%2e/%2e%2e/setup.cfg",
        "/static/js/..%2f..%2f..%2fsecurity.py",
        "/static//etc/passwd",
        "/s/..%2f..%2fetc%2fpasswd",
        "/j/..%2f..%2fetc%2fpasswd",
        "/api/jobs/..%2f..%2fetc%2fpasswd",
        "/api/qr/..%2f..%2fsetup.cfg.svg",
        "/api/jobs/" + JOB + "/files/..%2f1",
    ],
)
def test_path_traversal_is_refused(client: FlaskClient, path: str) -> None:
    # Werkzeug may first redirect "//" to "/" (308): follow it to the final answer.
    response = client.get(path, headers={"Authorization": "Bearer " + FAKE_TOKEN}, follow_redirects=True)
    assert response.status_code == 404, response.status_code  # no route matches: nothing is looked up
    body = response.get_data()
    for leaked in (b"root:x:0:0", b"def create_app", b"[metadata]", b"add_security_headers"):
        assert leaked not in body


def test_job_creation_rate_limited(client: FlaskClient) -> None:
    # Requests that reach the relay count (down here: 503); refused ones do not (test_web_edges.py).
    body = {"shop": "corner", "file_sizes": [5], "key_fingerprint": FINGERPRINT}
    statuses = [client.post("/api/jobs", json=body).status_code for _ in range(5)]
    assert statuses[:3] == [503, 503, 503]
    assert statuses[3:] == [429, 429]
    limited = client.post("/api/jobs", json=body)
    assert limited.get_json()["error"] == "too_many_requests"
    # Another client IP has its own budget.
    other = client.post("/api/jobs", json=body, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 503


def test_malformed_token_never_reaches_relay(client: FlaskClient) -> None:
    for header in (
        "Bearer",
        "Bearer ",
        "Basic abc",
        "Bearer " + "x" * 500,
        "Bearer a.b.c",
        "Bearer " + FAKE_TOKEN + " extra",
    ):
        response = client.get(f"/api/jobs/{JOB}", headers={"Authorization": header})
        assert response.status_code == 401, header
