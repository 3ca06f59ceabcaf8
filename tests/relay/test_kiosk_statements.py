"""The kiosk's statement on a job change: stored and forwarded unchanged, checked only for size."""

from __future__ import annotations

import pytest
from cloudtab.v1 import common_pb2, shop_jobs_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from tests.fixtures.inproc import InProcessRelay
from tests.relay.helpers import Kiosk, enroll, get_shop, reason_of, submitted_job

RECEIVED = common_pb2.JOB_STATE_RECEIVED
PRINTING = common_pb2.JOB_STATE_PRINTING


def _statement(**fields: object) -> common_pb2.KioskStatement:
    defaults: dict[str, object] = {
        "sealed_detail": b"\x01sealed" * 10,
        "signature": b"\x02" * 64,
        "sign_time": Timestamp(seconds=1_764_000_000, nanos=5),
        "kiosk_label": "Counter 2",
    }
    return common_pb2.KioskStatement(**{**defaults, **fields})  # type: ignore[arg-type]


def _update(kiosk: Kiosk, job_id: str, state: int, statement: common_pb2.KioskStatement | None) -> common_pb2.Job:
    request = shop_jobs_pb2.UpdateJobRequest(job_id=job_id, state=state, kiosk_statement=statement)  # type: ignore[arg-type]
    return kiosk.stub.UpdateJob(request, metadata=kiosk.md, timeout=10).job


def test_each_change_carries_its_statement_to_customer_and_shop_streams(inproc_relay: InProcessRelay) -> None:
    channel = inproc_relay.channel()
    slug, code = inproc_relay.add_shop("Statement Shop")
    kiosk = enroll(channel, slug, code)
    job = submitted_job(channel, kiosk, [b"x" * 100])

    received = _statement(kiosk_label="Counter 1")
    printing = _statement(signature=b"\x03" * 64)
    assert _update(kiosk, job.job_id, RECEIVED, received).kiosk_statement == received
    assert _update(kiosk, job.job_id, PRINTING, printing).kiosk_statement == printing
    # The same state with a new statement is a new event; the same statement again is not.
    waiting = _statement(signature=b"\x04" * 64)
    _update(kiosk, job.job_id, PRINTING, waiting)
    _update(kiosk, job.job_id, PRINTING, waiting)
    done = _statement(signature=b"\x05" * 64)
    request = shop_jobs_pb2.CompleteJobRequest(job_id=job.job_id, kiosk_statement=done)
    assert kiosk.stub.CompleteJob(request, metadata=kiosk.md, timeout=10).job.kiosk_statement == done

    events = [r.event for r in job.watch(after=1, timeout=5) if r.HasField("event")]  # replay from the log
    states = [(e.job.state, e.job.kiosk_statement if e.job.HasField("kiosk_statement") else None) for e in events]
    assert states == [
        (common_pb2.JOB_STATE_QUEUED, None),
        (RECEIVED, received),
        (PRINTING, printing),
        (PRINTING, waiting),
        (common_pb2.JOB_STATE_COMPLETED, done),
    ]
    shop_events = []
    for response in kiosk.subscribe(after=1, timeout=10):  # after the QUEUED event
        if response.HasField("event"):
            shop_events.append(response.event.job.kiosk_statement)
        if len(shop_events) == 4 or response.HasField("heartbeat"):
            break
    assert shop_events == [received, printing, waiting, done]


def test_reject_carries_the_statement(inproc_relay: InProcessRelay) -> None:
    channel = inproc_relay.channel()
    slug, code = inproc_relay.add_shop("Reject Statement Shop")
    kiosk = enroll(channel, slug, code)
    job = submitted_job(channel, kiosk, [b"x" * 10])
    sealed = _statement(sealed_detail=b"\x09" * 4096)
    request = shop_jobs_pb2.RejectJobRequest(job_id=job.job_id, reason="unsupported", kiosk_statement=sealed)
    kiosk.stub.RejectJob(request, metadata=kiosk.md, timeout=10)
    assert job.get().kiosk_statement == sealed


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sealed_detail": b"x" * 4097}, "kiosk_statement.sealed_detail"),
        ({"signature": b"x" * 161}, "kiosk_statement.signature"),
        ({"kiosk_label": "C" * 41}, "kiosk_statement.kiosk_label"),
        ({"wait_reason": 9999}, "kiosk_statement.wait_reason"),
        ({"kiosk_label": "Counter\n2"}, "kiosk_statement.kiosk_label"),
    ],
)
def test_an_oversized_or_unknown_statement_is_refused_and_changes_nothing(
    inproc_relay: InProcessRelay, fields: dict[str, object], field: str
) -> None:
    channel = inproc_relay.channel()
    slug, code = inproc_relay.add_shop("Bad Statement Shop")
    kiosk = enroll(channel, slug, code)
    job = submitted_job(channel, kiosk, [b"x" * 10])
    reason, metadata = reason_of(lambda: _update(kiosk, job.job_id, RECEIVED, _statement(**fields)))
    assert (reason, metadata.get("field")) == ("INVALID_REQUEST", field)
    assert job.get().state == common_pb2.JOB_STATE_QUEUED
    assert _update(kiosk, job.job_id, RECEIVED, _statement()).state == RECEIVED  # still serving


def test_get_shop_lists_the_kiosk_key(inproc_relay: InProcessRelay) -> None:
    channel = inproc_relay.channel()
    slug, code = inproc_relay.add_shop("Key List Shop")
    kiosk = enroll(channel, slug, code)
    shop = get_shop(channel, slug)
    assert [(k.public_key, k.key_fingerprint) for k in shop.kiosk_keys] == [(shop.public_key, kiosk.fingerprint)]
