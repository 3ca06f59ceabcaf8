"""The kiosk loses its network while jobs arrive (docs/security.md F4).

The kiosk core dials the relay through a TCP proxy the test cuts. While it is
cut, jobs arrive; one of them expires before the network returns. On return
the kiosk shows every job in order, the expired one as EXPIRED (not silently
dropped), the others opened and ready.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import kiosk.core.jobs as jobs_mod
import kiosk.core.service as core_service
from kiosk.core import printing
from tests.faults.procs import TcpProxy
from tests.fixtures.faults import Customer, PlainFile, SealedJob
from tests.security import pdfs

LS = jobs_mod.LocalState
RETENTION = 10
from kiosk.core import subscription


def _wait(predicate: Any, timeout: float, what: str, describe: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"; now {describe()}" if describe else ""))


def test_offline_kiosk_gets_every_job_in_order(
    relay_procs: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reconnect attempts at most 1 s apart, so the test's timing does not depend on jitter.
    original = subscription.Backoff.next
    monkeypatch.setattr(subscription.Backoff, "next", lambda self: min(original(self), 1.0))
    relay = relay_procs(name="offline", env={"CLOUDTAB_RELAY_RETENTION_SECONDS": str(RETENTION)})
    proxy = TcpProxy(relay.port)
    slug, code = relay.add_shop("Offline Shop")
    core = core_service.KioskCore(
        tmp_path / "kiosk", printer=printing.PdfFolderPrinter(tmp_path / "out"), idle_timeout=4.0
    )
    profile = core.enroll(proxy.address, code)
    customer = Customer(relay.channel())

    def send(tag: str) -> SealedJob:
        files = [PlainFile(f"{tag}.pdf", "application/pdf", pdfs.simple_pdf(tag.encode()))]
        return customer.send(slug, files, public_key=profile.public_key)

    def state(job_id: str) -> Any:
        return {j.job_id: j.state for j in core.jobs()}.get(job_id)

    core.start()
    try:
        # One job first, so the kiosk has a sequence to resume from (after_sequence=0
        # means "first start: replay active jobs", which cannot show a job that
        # expired meanwhile; see the report).
        first = send("first").job_id
        _wait(lambda: state(first) == LS.READY, 20, "the first job")
        proxy.cut()
        _wait(lambda: not core.connection.online, 15, "the kiosk to notice it is offline")
        doomed_job = send("doomed")
        doomed = doomed_job.job_id
        time.sleep(RETENTION * 0.7)
        later = [send(f"later-{n}").job_id for n in range(3)]
        _wait(
            lambda: customer.get(doomed_job).state == 8,
            RETENTION + 15,
            "the relay to expire the job sent while offline",
        )
        assert doomed not in {j.job_id for j in core.jobs()}, "the kiosk cannot know yet"
        proxy.restore()
        _wait(lambda: core.connection.online, 40, "the kiosk to reconnect")
        _wait(
            lambda: all(state(j) == LS.READY for j in later) and state(doomed) is not None,
            30,
            f"every job after reconnecting: doomed={doomed[:6]} later={[j[:6] for j in later]}",
            lambda: [(j.job_id[:6], j.state.value, j.error) for j in core.jobs()],
        )
        assert state(doomed) == LS.EXPIRED, "a job that expired while offline must be shown as expired"
        # Newest first, as the queue shows them.
        order = [j.job_id for j in core.jobs() if j.job_id in set(later)]
        assert order == list(reversed(later))
        for job_id in later:
            assert core.open_job(job_id).page_count == 1
    finally:
        core.stop()
        proxy.close()
