"""The kiosk's download of one file from a real (in-process) relay.

Guards e08968d: ciphertext damaged at rest (cut short or extended) is a JobError
at once (a cut file after one resume that makes no progress), never retried as if
the network were at fault. With the fix reverted the same calls retry five times
(``sleep``) and end in a RelayError, which the kiosk treats as transient.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.core.errors import JobError, RelayError
from kiosk.core.relay import RelayClient
from tests.fixtures.inproc import InProcessRelay
from tests.relay.helpers import Kiosk, enroll, submitted_job

SIZE = 300_000


@pytest.fixture
def shop(inproc_relay: InProcessRelay) -> Iterator[tuple[InProcessRelay, Kiosk, RelayClient]]:
    channel = inproc_relay.channel()
    slug, code = inproc_relay.add_shop("Download Shop")
    kiosk = enroll(channel, slug, code)
    client = RelayClient(inproc_relay.address, token=kiosk.token)
    try:
        yield inproc_relay, kiosk, client
    finally:
        client.close()


def _parts(relay: InProcessRelay, job_id: str) -> list[Path]:
    folders = list(relay.relay.config.resolved_data_dir.rglob(job_id))
    assert folders, "the job's blob folder was not found"
    return sorted(p for p in (folders[0] / "0").iterdir() if p.is_file() and not p.name.startswith(".tmp"))


def test_whole_file_downloads(shop: tuple[InProcessRelay, Kiosk, RelayClient]) -> None:
    relay, kiosk, client = shop
    data = os.urandom(SIZE)
    job = submitted_job(relay.channel(), kiosk, [data])
    assert bytes(client.download_file(job.job_id, 0, SIZE)) == data


@pytest.mark.parametrize("damage", ["cut", "extended"])
def test_damaged_blob_fails_at_once(shop: tuple[InProcessRelay, Kiosk, RelayClient], damage: str) -> None:
    relay, kiosk, client = shop
    job = submitted_job(relay.channel(), kiosk, [os.urandom(SIZE)])
    part = _parts(relay, job.job_id)[-1]
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2] if damage == "cut" else data + os.urandom(1000))
    sleeps: list[float] = []
    with pytest.raises(JobError, match="damaged") as caught:
        client.download_file(job.job_id, 0, SIZE, sleep=sleeps.append)
    assert not isinstance(caught.value, RelayError)  # not "transient": the job fails now
    # A cut file is resumed once from where its bytes stop (that attempt makes no
    # progress, so it fails); an extended one fails on the first extra byte.
    assert len(sleeps) <= (1 if damage == "cut" else 0), "a damaged blob was retried as if the network had failed"
