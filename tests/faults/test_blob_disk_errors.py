"""Disk-full and permission errors on the local blob folder (docs/security.md F5).

The relay's blob folder is a 2 MiB tmpfs: a job larger than that fills it, and
a read-only remount stands for a permission error (the tests run as root, for
whom file modes mean nothing; EROFS is in the relay's "denied" class). Each
gives a clear status to the uploader; the relay keeps serving the other jobs,
and the failed upload resumes once space or permission is back.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.fixtures.faults import Customer, Kiosk, PlainFile
from tests.fixtures.services import service_missing


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    data_dir = tmp_path / "relay-data"
    blobs = data_dir / "blobs"
    blobs.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(blobs)], capture_output=True, text=True, check=False
    )
    if done.returncode:
        service_missing(f"a tmpfs mount for the blob folder (needs root): {done.stderr.strip()}")
    try:
        yield data_dir
    finally:
        subprocess.run(["umount", "-l", str(blobs)], capture_output=True, check=False)


def _remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True, capture_output=True)


def _code(fn: Any) -> tuple[grpc.StatusCode | None, str]:
    try:
        fn()
    except grpc.RpcError as exc:
        return exc.code(), exc.details() or ""
    return None, ""


def test_full_blob_folder_fails_cleanly(small_disk: Path, relay_procs: Any) -> None:
    relay = relay_procs(name="diskfull", data_dir=small_disk)
    channel = relay.channel()
    slug, code = relay.add_shop("Full Shop")
    kiosk = Kiosk.enroll(channel, code, slug)
    customer = Customer(channel)
    small = customer.send(
        slug, [PlainFile("a.pdf", "application/pdf", os.urandom(100_000))], public_key=kiosk.public_key
    )
    big = customer.create(
        slug, [PlainFile("b.pdf", "application/pdf", os.urandom(3_000_000))], public_key=kiosk.public_key
    )
    status, details = _code(lambda: customer.upload(big, 0))
    assert status == grpc.StatusCode.RESOURCE_EXHAUSTED, (status, details)
    assert "full" in details.lower() or "space" in details.lower(), details
    # The relay keeps serving: health, the other job's download, a subscription.
    assert relay.healthy()
    assert kiosk.open(small.job_id)[1] == [small.files[0].data]
    assert kiosk.events(0, 1, timeout=10)[0].job.job_id == small.job_id
    # Cancelling the big job frees its space; new work goes through.
    customer.cancel(big)
    after = customer.send(
        slug, [PlainFile("c.pdf", "application/pdf", os.urandom(500_000))], public_key=kiosk.public_key
    )
    assert kiosk.open(after.job_id)[1] == [after.files[0].data]


def test_unwritable_job_folder_fails_cleanly(small_disk: Path, relay_procs: Any) -> None:
    relay = relay_procs(name="readonly", data_dir=small_disk)
    channel = relay.channel()
    slug, code = relay.add_shop("Read-only Shop")
    kiosk = Kiosk.enroll(channel, code, slug)
    customer = Customer(channel)
    earlier = customer.send(
        slug, [PlainFile("a.pdf", "application/pdf", os.urandom(100_000))], public_key=kiosk.public_key
    )
    job = customer.create(
        slug, [PlainFile("d.pdf", "application/pdf", os.urandom(300_000))], public_key=kiosk.public_key
    )
    _remount(small_disk / "blobs", "ro")
    try:
        status, details = _code(lambda: customer.upload(job, 0))
        assert status == grpc.StatusCode.UNAVAILABLE, (status, details)
        assert details and "internal error" not in details.lower(), details
        assert kiosk.open(earlier.job_id)[1] == [earlier.files[0].data]
        assert customer.offset(job, 0) == 0
    finally:
        _remount(small_disk / "blobs", "rw")
    assert customer.upload(job, 0).complete
    customer.submit(job)
    assert kiosk.open(job.job_id)[1] == [job.files[0].data]
    log = relay.log_text()
    assert "Read-only" in log or "read-only" in log or "EROFS" in log or "Permission" in log, (
        "the operator's log must name the cause"
    )
