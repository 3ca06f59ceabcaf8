"""The memory budget counts what a job makes while opening (a converted PDF), not only its download."""

from __future__ import annotations

import pytest
from cloudtab.v1 import common_pb2

from kiosk.core.budget import MemoryBudget
from kiosk.core.errors import DocumentTooLarge
from kiosk.core.jobs import KioskJob
from kiosk.core.queue import JobRecord


def _record(budget: MemoryBudget, size: int) -> JobRecord:
    record = JobRecord(KioskJob.__new__(KioskJob), common_pb2.Job())
    assert budget.acquire(size)
    record.hold(budget, size)
    return record


def test_a_converted_pdf_is_added_to_the_jobs_reservation_and_released_with_it() -> None:
    budget = MemoryBudget(1000)
    record = _record(budget, 300)
    record.grow(500)  # the PDF LibreOffice wrote
    assert (budget.used, record.reserved) == (800, 800)
    assert not budget.acquire(300, cancelled=lambda: True)  # another job now waits
    record.wipe()
    assert budget.used == 0


def test_growth_never_waits_but_a_job_alone_over_the_budget_is_refused() -> None:
    budget = MemoryBudget(1000)
    other = _record(budget, 600)
    record = _record(budget, 300)
    record.grow(300)  # over the limit for a while: the job must not wait on memory it holds
    assert budget.used == 1200 and budget.peak == 1200
    with pytest.raises(DocumentTooLarge, match="converted document is too large"):
        record.grow(401)  # 600 + 401 > 1000 for this job alone
    assert record.reserved == 600
    other.wipe()
    record.wipe()
    assert budget.used == 0
