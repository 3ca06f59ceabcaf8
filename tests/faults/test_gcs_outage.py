"""The GCS emulator goes away mid-upload (docs/security.md F3).

The outage here lasts OUTAGE seconds to keep CI short; bench/fault_campaign.py
runs the full 30-second outage. Uploads during the outage fail with UNAVAILABLE
within the relay's GCS retry bound; nothing half-written becomes visible (the
committed offset does not move); after the emulator is back the same upload
resumes and the kiosk opens intact bytes.
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Any

import grpc
import pytest

from tests.fixtures.faults import Customer, Kiosk, PlainFile

OUTAGE = 5.0


def test_upload_during_gcs_outage_retries_to_success(relay_procs: Any, gcs_emulator: Any) -> None:
    bucket = f"outage-{secrets.token_hex(6)}"
    gcs_emulator.create_bucket(bucket)
    relay = relay_procs(name="gcs-outage", gcs_bucket=bucket)
    channel = relay.channel()
    slug, code = relay.add_shop("Outage Shop")
    kiosk = Kiosk.enroll(channel, code, slug)
    customer = Customer(channel, timeout=60)
    earlier = customer.send(
        slug, [PlainFile("e.pdf", "application/pdf", os.urandom(50_000))], public_key=kiosk.public_key
    )
    job = customer.create(
        slug, [PlainFile("o.pdf", "application/pdf", os.urandom(3_000_000))], public_key=kiosk.public_key
    )
    half = len(job.ciphertexts[0]) // 2
    assert customer.upload(job, 0, 0, half).committed_offset == half
    gcs_emulator.stop()
    try:
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as failed:
            customer.upload(job, 0, half)
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE, failed.value.details()
        assert time.monotonic() - started < 45, "the relay must give up within its GCS retry bound"
        with pytest.raises(grpc.RpcError) as failed_download:
            kiosk.download(earlier.job_id, 0)
        assert failed_download.value.code() == grpc.StatusCode.UNAVAILABLE
        # The database still answers: the customer sees the job, unchanged.
        assert customer.get(job).state == 1
        time.sleep(max(0.0, OUTAGE - (time.monotonic() - started)))
    finally:
        gcs_emulator.start()
    committed = customer.offset(job, 0)
    assert committed == half, f"a half-written chunk became visible: committed {committed}, expected {half}"
    deadline = time.monotonic() + 30
    while True:
        try:
            assert customer.upload(job, 0).complete
            break
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
            time.sleep(1)
    customer.submit(job)
    assert kiosk.open(job.job_id)[1] == [job.files[0].data]
    assert kiosk.open(earlier.job_id)[1] == [earlier.files[0].data]
