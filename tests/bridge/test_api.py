"""The JSON/binary API on a fake relay: validation, limits, streaming, events, errors."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import grpc
import pytest
from flask.testing import FlaskClient

from cloudtab_rpc.reasons import Reason
from tests.bridge.fake_relay import PUBLIC_KEY, FakeRelay
from web_bridge import create_app
from web_bridge.errors import describe_relay_error
from web_bridge.relay_client import RelayCallError

FINGERPRINT = hashlib.sha256(PUBLIC_KEY).hexdigest()


def _create(client: FlaskClient, sizes: list[int], **extra: Any) -> Any:
    body = {"shop": "demo", "file_sizes": sizes, "key_fingerprint": FINGERPRINT, **extra}
    return client.post("/api/jobs", json=body)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_shop_profile(client: FlaskClient) -> None:
    body = client.get("/api/shops/demo").json
    assert body["display_name"] == "Shop demo"
    key = base64.urlsafe_b64decode(body["public_key"] + "=")
    assert key == PUBLIC_KEY
    assert body["key_fingerprint"] == FINGERPRINT
    assert body["limits"]["max_file_bytes"] == 10_000_000
    assert "application/pdf" in body["accepted_media_types"]


def test_whole_job_through_the_api(client: FlaskClient, fake_relay: FakeRelay) -> None:
    created = _create(client, [300_000, 5])
    assert created.status_code == 201
    job_id = created.json["job"]["job_id"]
    token = created.json["customer_token"]
    assert created.json["job"]["state"] == "uploading"
    assert created.json["record_size"] == 65536

    first = bytes(range(256)) * 1000 + b"x" * 44_000
    done = client.put(
        f"/api/jobs/{job_id}/files/0?offset=0",
        data=first[:100_000],
        headers=_auth(token),
        content_type="application/octet-stream",
    )
    assert done.json == {"committed_offset": 100_000, "complete": False}
    offset = client.get(f"/api/jobs/{job_id}/files/0/offset", headers=_auth(token)).json
    assert offset == {"committed_offset": 100_000, "size": 300_000}
    done = client.put(f"/api/jobs/{job_id}/files/0?offset=100000", data=first[100_000:], headers=_auth(token))
    assert done.json == {"committed_offset": 300_000, "complete": True}
    assert bytes(fake_relay.jobs[job_id].data[0]) == first

    early = client.post(
        f"/api/jobs/{job_id}/submit", data=b"sealed", headers=_auth(token), content_type="application/octet-stream"
    )
    assert early.status_code == 409
    assert early.json["error"] == "incomplete"

    client.put(f"/api/jobs/{job_id}/files/1?offset=0", data=b"12345", headers=_auth(token))
    submitted = client.post(f"/api/jobs/{job_id}/submit", headers=_auth(token), json={"sealed_manifest": "c2VhbGVk"})
    assert submitted.status_code == 200
    assert submitted.json["job"]["state"] == "queued"
    assert "sealed_manifest" not in json.dumps(submitted.json)
    assert fake_relay.jobs[job_id].job.sealed_manifest == b"sealed"

    state = client.get(f"/api/jobs/{job_id}", headers=_auth(token)).json
    assert state["job"]["state"] == "queued"
    cancelled = client.post(f"/api/jobs/{job_id}/cancel", headers=_auth(token))
    assert cancelled.json["job"]["state"] == "cancelled"


def test_upload_is_streamed_in_pieces(fake_relay: FakeRelay) -> None:
    app = create_app({"TESTING": True, "RELAY_CLIENT": fake_relay, "UPLOAD_PIECE_BYTES": 65536})
    client = app.test_client()
    created = _create(client, [1_000_000]).json
    body = bytes(1_000_000)
    response = client.put(
        f"/api/jobs/{created['job']['job_id']}/files/0?offset=0", data=body, headers=_auth(created["customer_token"])
    )
    assert response.json["complete"] is True
    assert max(fake_relay.upload_pieces) == 65536
    assert sum(fake_relay.upload_pieces) == 1_000_000
    assert len(fake_relay.upload_pieces) == 16


def test_wrong_offset_answers_the_committed_offset(client: FlaskClient) -> None:
    created = _create(client, [1000]).json
    job_id, token = created["job"]["job_id"], created["customer_token"]
    client.put(f"/api/jobs/{job_id}/files/0?offset=0", data=b"a" * 400, headers=_auth(token))
    response = client.put(f"/api/jobs/{job_id}/files/0?offset=100", data=b"b" * 10, headers=_auth(token))
    assert response.status_code == 409
    assert response.json["error"] == "offset_mismatch"
    assert response.json["committed_offset"] == 400


@pytest.mark.parametrize(
    ("path", "headers", "status", "error"),
    [
        ("/api/jobs/{job}/files/0?offset=0", {}, 401, "unauthorized"),
        ("/api/jobs/{job}/files/0?offset=0", {"Authorization": "Basic abc"}, 401, "unauthorized"),
        ("/api/jobs/{job}/files/0?offset=0", {"Authorization": "Bearer " + "x" * 43}, 401, "unauthorized"),
        ("/api/jobs/{job}/files/0", "token", 400, "bad_request"),
        ("/api/jobs/{job}/files/0?offset=-1", "token", 400, "bad_request"),
        ("/api/jobs/{job}/files/0?offset=1e3", "token", 400, "bad_request"),
        ("/api/jobs/{job}/files/7?offset=0", "token", 400, "no_such_file"),
    ],
)
def test_upload_rejections(
    client: FlaskClient, fake_relay: FakeRelay, path: str, headers: Any, status: int, error: str
) -> None:
    created = _create(client, [10]).json
    if headers == "token":
        headers = _auth(created["customer_token"])
    response = client.put(path.format(job=created["job"]["job_id"]), data=b"0123456789", headers=headers)
    assert response.status_code == status
    assert response.json["error"] == error
    assert not any(fake_relay.jobs[created["job"]["job_id"]].data[0])


def test_oversized_chunk_is_refused_before_the_relay(fake_relay: FakeRelay) -> None:
    app = create_app({"TESTING": True, "RELAY_CLIENT": fake_relay, "MAX_UPLOAD_CHUNK_BYTES": 1000})
    client = app.test_client()
    created = _create(client, [5000]).json
    response = client.put(
        f"/api/jobs/{created['job']['job_id']}/files/0?offset=0",
        data=b"z" * 1001,
        headers=_auth(created["customer_token"]),
    )
    assert response.status_code == 413
    assert response.json["error"] == "chunk_too_large"
    assert "UploadFile" not in fake_relay.calls


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "bad_request"),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400, "bad_request"),
        ({"data": "shop=demo", "content_type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
        ({"json": {"shop": "demo", "file_sizes": [], "key_fingerprint": FINGERPRINT}}, 400, "bad_request"),
        ({"json": {"shop": "demo", "file_sizes": [True], "key_fingerprint": FINGERPRINT}}, 400, "bad_request"),
        ({"json": {"shop": "demo", "file_sizes": [-1], "key_fingerprint": FINGERPRINT}}, 400, "bad_request"),
        ({"json": {"shop": "demo", "file_sizes": ["1"], "key_fingerprint": FINGERPRINT}}, 400, "bad_request"),
        ({"json": {"shop": "demo", "file_sizes": [1], "key_fingerprint": "abc"}}, 400, "bad_request"),
        ({"json": {"shop": "../x", "file_sizes": [1], "key_fingerprint": FINGERPRINT}}, 404, "shop_not_found"),
        ({"json": {"shop": "nowhere", "file_sizes": [1], "key_fingerprint": FINGERPRINT}}, 404, "shop_not_found"),
        (
            {"data": json.dumps({"shop": "demo", "pad": "x" * 300_000}), "content_type": "application/json"},
            413,
            "too_large",
        ),
    ],
)
def test_malformed_job_creation(
    client: FlaskClient, fake_relay: FakeRelay, kwargs: dict[str, Any], status: int, error: str
) -> None:
    response = client.post("/api/jobs", **kwargs)
    assert response.status_code == status
    assert response.is_json
    assert response.json["error"] == error
    assert response.json["message"]
    assert fake_relay.jobs == {}


@pytest.mark.parametrize(
    ("sizes", "error"),
    [
        ([10_000_001], "file_too_large"),
        ([9_000_000, 9_000_000, 9_000_000], "job_too_large"),
        ([1, 1, 1, 1, 1, 1], "too_many_files"),
    ],
)
def test_shop_limits_refuse_before_the_relay(
    client: FlaskClient, fake_relay: FakeRelay, sizes: list[int], error: str
) -> None:
    response = _create(client, sizes)
    assert response.status_code == 413
    assert response.json["error"] == error
    assert "This shop accepts" in response.json["message"] or "this shop accepts" in response.json["message"]
    assert "CreateJob" not in fake_relay.calls


def test_oversized_manifest(client: FlaskClient) -> None:
    created = _create(client, [1]).json
    response = client.post(
        f"/api/jobs/{created['job']['job_id']}/submit",
        data=b"m" * 70_000,
        content_type="application/octet-stream",
        headers=_auth(created["customer_token"]),
    )
    assert response.status_code == 413
    assert response.json["error"] == "too_large"


def test_rate_limit_on_job_creation(fake_relay: FakeRelay) -> None:
    app = create_app({"TESTING": True, "RELAY_CLIENT": fake_relay, "JOB_CREATE_LIMIT": "3 per minute"})
    client = app.test_client()
    statuses = [_create(client, [1]).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    refused = _create(client, [1])
    assert refused.json["error"] == "too_many_requests"
    assert "wait a minute" in refused.json["message"]
    assert "Retry-After" in refused.headers
    other = client.post(
        "/api/jobs",
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
        json={"shop": "demo", "file_sizes": [1], "key_fingerprint": FINGERPRINT},
    )
    assert other.status_code == 201
    assert len(fake_relay.jobs) == 4
    assert client.get("/api/shops/demo").status_code == 200  # other routes unaffected


def test_rate_limit_keys_on_forwarded_ip_behind_trusted_proxy(fake_relay: FakeRelay) -> None:
    app = create_app(
        {"TESTING": True, "RELAY_CLIENT": fake_relay, "JOB_CREATE_LIMIT": "1 per minute", "PROXY_FIX_X_FOR": 1}
    )
    client = app.test_client()
    body = {"shop": "demo", "file_sizes": [1], "key_fingerprint": FINGERPRINT}
    first = client.post("/api/jobs", json=body, headers={"X-Forwarded-For": "203.0.113.7"})
    again = client.post("/api/jobs", json=body, headers={"X-Forwarded-For": "203.0.113.7"})
    other = client.post("/api/jobs", json=body, headers={"X-Forwarded-For": "203.0.113.8"})
    assert [first.status_code, again.status_code, other.status_code] == [201, 429, 201]


@pytest.mark.parametrize("reason", list(Reason))
def test_relay_reason_words_never_carry_relay_text(reason: Reason) -> None:
    """Every reason maps to customer words; the relay's own message stays inside."""
    error = RelayCallError("GetJob", getattr(grpc.StatusCode, reason.status), "SECRET relay text", reason, {})
    mapped = describe_relay_error(error)
    assert "SECRET" not in mapped.message and mapped.message.endswith(".")


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        (grpc.StatusCode.UNAVAILABLE, 503, "unavailable"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504, "timeout"),
        (grpc.StatusCode.INTERNAL, 502, "relay_error"),
        (grpc.StatusCode.NOT_FOUND, 502, "relay_error"),
    ],
)
def test_failures_without_a_reason_go_by_code(code: grpc.StatusCode, status: int, error: str) -> None:
    """The relay not reached (no ErrorInfo): only the code counts, never the words."""
    mapped = describe_relay_error(RelayCallError("GetShop", code, "no shop rate expire offset 5"))
    assert (mapped.status, mapped.error, mapped.extra) == (status, error, {})


@pytest.mark.parametrize(
    ("failure", "status", "message"),
    [
        (Reason.SHOP_NOT_FOUND, 404, "This shop was not found."),
        (grpc.StatusCode.UNAVAILABLE, 503, "try again"),
    ],
)
def test_relay_errors_reach_the_page(
    client: FlaskClient, fake_relay: FakeRelay, failure: Reason | grpc.StatusCode, status: int, message: str
) -> None:
    fake_relay.fail_next["GetShop"] = failure
    api = client.get("/api/shops/demo")
    assert api.status_code == status and message in api.json["message"]
    fake_relay.fail_next["GetShop"] = failure
    page = client.get("/s/demo")
    assert page.status_code == status and message in page.get_data(as_text=True)
    assert page.mimetype == "text/html"


def _sse_messages(text: str) -> list[dict[str, str]]:
    out = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        if "data" in fields:
            out.append(fields)
    return out


def test_events_stream_until_terminal(client: FlaskClient, fake_relay: FakeRelay) -> None:
    created = _create(client, [1]).json
    job_id, token = created["job"]["job_id"], created["customer_token"]
    response = client.get(f"/api/jobs/{job_id}/events", headers=_auth(token))
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    text = response.get_data(as_text=True)
    assert ": heartbeat" in text
    messages = _sse_messages(text)
    assert [m["id"] for m in messages] == ["1", "2", "3"]
    assert [json.loads(m["data"])["job"]["state"] for m in messages] == ["queued", "printing", "completed"]
    assert fake_relay.watch_calls[-1].cancelled
    resumed = client.get(f"/api/jobs/{job_id}/events?after=2", headers=_auth(token))
    assert [m["id"] for m in _sse_messages(resumed.get_data(as_text=True))] == ["3"]


def test_events_refused_without_token(client: FlaskClient, fake_relay: FakeRelay) -> None:
    created = _create(client, [1]).json
    response = client.get(f"/api/jobs/{created['job']['job_id']}/events")
    assert response.status_code == 401 and response.is_json
    assert "WatchJob" not in fake_relay.calls
    bad = client.get(f"/api/jobs/{created['job']['job_id']}/events", headers=_auth("y" * 43))
    assert bad.status_code == 401 and bad.is_json


def test_job_code_qr(client: FlaskClient) -> None:
    response = client.get("/api/qr/ABC234.svg")
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).lstrip().startswith("<svg")
    assert client.get("/api/qr/AB.svg").status_code == 404
