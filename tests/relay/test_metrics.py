"""The relay's gauges carry the right values after a job (not just the right names)."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.fixtures.inproc import InProcessRelay
from tests.relay.helpers import enroll, submitted_job


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_jobs_by_state_and_stored_bytes_follow_a_job(inproc_relay: InProcessRelay) -> None:
    channel = inproc_relay.channel()
    slug, code = inproc_relay.add_shop("Metrics Shop")
    kiosk = enroll(channel, slug, code)
    reaper = inproc_relay.relay.reaper

    job = submitted_job(channel, kiosk, [b"a" * 1000, b"b" * 500])
    inproc_relay.run(reaper.refresh_metrics())
    assert _sample("cloudtab_relay_jobs", state="queued") == 1
    assert _sample("cloudtab_relay_jobs", state="completed") == 0
    assert _sample("cloudtab_relay_stored_bytes") == 1500

    kiosk.complete(job.job_id)
    inproc_relay.run(reaper.refresh_metrics())
    assert _sample("cloudtab_relay_jobs", state="queued") == 0
    assert _sample("cloudtab_relay_jobs", state="completed") == 1
    assert _sample("cloudtab_relay_stored_bytes") == 0  # its ciphertext was deleted at once
