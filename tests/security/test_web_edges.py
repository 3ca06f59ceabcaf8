"""The bridge's edges (docs/security.md T38-T41): deep JSON, a Host label over 63
characters, a file index past 32 bits, and refused requests against the
job-creation limit. Flask's test client; the relay address is a closed port.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.fixtures.services import free_port
from web_bridge.edges import valid_host
from web_bridge.security import CONTENT_SECURITY_POLICY, STATIC_HEADERS

TOKEN = "A" * 43
JOB = "0123456789abcdef0123456789abcdef"
FINGERPRINT = "ab" * 32


@pytest.fixture
def app() -> Iterator[Flask]:
    from web_bridge import create_app

    yield create_app(
        {
            "RELAY_ADDRESS": f"127.0.0.1:{free_port()}",
            "RELAY_TIMEOUT": 2.0,
            "JOB_CREATE_LIMIT": "3 per minute",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _secured(response) -> bool:  # type: ignore[no-untyped-def]
    """Every security header is there; the policy may add the import map's hash (web_bridge.integrity)."""
    csp = response.headers.get("Content-Security-Policy", "")
    others = {name: value for name, value in STATIC_HEADERS.items() if name != "Content-Security-Policy"}
    return csp.startswith(CONTENT_SECURITY_POLICY) and all(
        response.headers.get(name) == value for name, value in others.items()
    )


def test_json_nested_100000_deep_is_400(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/jobs", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_request", "message": "The request body is nested too deeply."}
    assert _secured(response)
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


@pytest.mark.parametrize(
    "host",
    [
        "a" * 64 + ".example.com",
        "x" * 300,
        "bad host",
        "exa_mple.com:80",
        "example.com:99999999",
        "[::1",
        "\u00e9xample.com",
    ],
)
def test_invalid_host_header_is_a_clean_400(client: FlaskClient, host: str) -> None:
    for path in ("/", "/api/jobs/" + JOB, "/static/js/envelope.js"):
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 400, (host, path)
        assert response.get_json() == {"error": "bad_request", "message": "The Host header is not valid."}
        assert _secured(response)


def test_valid_hosts_pass() -> None:
    for host in (
        "",
        "localhost",
        "localhost:8080",
        "print.example.com",
        "a" * 63 + ".io",
        "10.0.0.2:80",
        "[::1]:8080",
        "[2001:db8::1]",
        "example.com.",
    ):
        assert valid_host(host), host


@pytest.mark.parametrize("index", ["99999999999", "4294967296", "1000"])
def test_file_index_out_of_range_is_400(client: FlaskClient, index: str) -> None:
    auth = {"Authorization": "Bearer " + TOKEN}
    put = client.put(f"/api/jobs/{JOB}/files/{index}?offset=0", data=b"x" * 10, headers=auth)
    get = client.get(f"/api/jobs/{JOB}/files/{index}/offset", headers=auth)
    for response in (put, get):
        assert response.status_code == 400
        assert response.get_json() == {"error": "bad_request", "message": "There is no such file in a job."}


def test_refused_requests_do_not_count_against_job_creation(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    good = {"shop": "corner", "file_sizes": [100], "key_fingerprint": FINGERPRINT}
    refused = [client.post("/api/jobs", data="x", content_type="text/plain").status_code for _ in range(5)]
    refused += [client.post("/api/jobs", json={**good, "file_sizes": [-5]}).status_code for _ in range(5)]
    assert refused == [415] * 5 + [400] * 5
    # The limit (3 per minute) is still whole: three requests reach the relay (down: 503), the 4th is limited.
    passed = [client.post("/api/jobs", json=good).status_code for _ in range(4)]
    assert passed == [503, 503, 503, 429]
