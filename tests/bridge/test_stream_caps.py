"""Live status streams are capped per job and per client address (docs/security.md T42)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.bridge.fake_relay import FakeRelay
from tests.bridge.test_api import _auth, _create
from web_bridge.stream_slots import slots


def test_streams_per_job_and_per_client_are_capped(client: FlaskClient, fake_relay: FakeRelay) -> None:
    created = _create(client, [1]).json
    job_id, token = created["job"]["job_id"], created["customer_token"]
    open_ = []
    for _ in range(4):  # SSE_MAX_PER_JOB: each response held open (not read to its end)
        response = client.get(f"/api/jobs/{job_id}/events", headers=_auth(token), buffered=False)
        assert response.status_code == 200
        open_.append(response)
    refused = client.get(f"/api/jobs/{job_id}/events", headers=_auth(token), buffered=False)
    assert refused.status_code == 429
    assert refused.json["error"] == "too_many_streams"
    with client.application.app_context():
        assert slots().open == 4
    open_.pop().close()  # one viewer leaves: its slot is free again
    again = client.get(f"/api/jobs/{job_id}/events", headers=_auth(token), buffered=False)
    assert again.status_code == 200
    open_.append(again)
    # One address, many jobs: SSE_MAX_PER_CLIENT (8) streams in all.
    statuses = []
    for _ in range(6):
        other = _create(client, [1]).json
        response = client.get(
            f"/api/jobs/{other['job']['job_id']}/events", headers=_auth(other["customer_token"]), buffered=False
        )
        statuses.append(response.status_code)
        open_.append(response)
    assert statuses == [200, 200, 200, 200, 429, 429]
    from_elsewhere = _create(client, [1]).json
    response = client.get(
        f"/api/jobs/{from_elsewhere['job']['job_id']}/events",
        headers=_auth(from_elsewhere["customer_token"]),
        buffered=False,
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.status_code == 200
    open_.append(response)
    for response in open_:
        response.close()
    with client.application.app_context():
        assert slots().open == 0


def test_an_ipv6_client_counts_by_its_64() -> None:
    from web_bridge.stream_slots import StreamSlots, client_key

    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert client_key("::ffff:10.0.0.1") == "10.0.0.1" and client_key("10.0.0.1") == "10.0.0.1"
    caps = StreamSlots(per_job=100, per_client=2)
    assert caps.acquire("a", "2001:db8:1:2::1") and caps.acquire("b", "2001:db8:1:2::2")
    assert caps.acquire("c", "2001:db8:1:2:ffff::3") is None
    assert caps.acquire("c", "2001:db8:1:3::1") is not None
