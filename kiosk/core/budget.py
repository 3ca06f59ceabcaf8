"""The kiosk's memory budget for open jobs: a job reserves its bytes before downloading.

A job reserves what it holds at its peak (ciphertext plus plaintext) and keeps
the reservation until it is wiped. Jobs that do not fit wait; a job larger
than the whole budget is refused at once. What a job makes while it opens
(the PDF LibreOffice converts a document into, a photo laid out on pages) is
added to its reservation with :meth:`MemoryBudget.grow` as soon as its size is
known: that never waits (a job must not wait on memory it holds itself, nor two
opening jobs on each other), so the budget can be exceeded for a while and
other jobs then wait until it is back under; a job that alone would exceed the
whole budget is refused.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from kiosk.core.errors import DocumentTooLarge

BUDGET_ENV = "CLOUDTAB_KIOSK_MEMORY_BUDGET_MB"
DEFAULT_BUDGET = 2048 << 20


def default_budget() -> int:
    """Bytes from ``CLOUDTAB_KIOSK_MEMORY_BUDGET_MB`` (default 2048 MiB)."""
    raw = os.environ.get(BUDGET_ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw) << 20
    return DEFAULT_BUDGET


class MemoryBudget:
    """A counting budget of bytes with blocking, cancellable reservations."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit if limit is not None else default_budget()
        self._used = 0
        self._peak = 0
        self._cond = threading.Condition()

    @property
    def used(self) -> int:
        return self._used

    @property
    def peak(self) -> int:
        return self._peak

    def acquire(
        self, size: int, cancelled: Callable[[], bool] = lambda: False, on_wait: Callable[[], None] | None = None
    ) -> bool:
        """Reserve ``size`` bytes, waiting while other jobs hold the budget.

        Returns False if ``cancelled()`` became true while waiting.

        Raises:
            DocumentTooLarge: ``size`` exceeds the whole budget.
        """
        if size > self.limit:
            raise DocumentTooLarge("the job is too large for this kiosk's memory")
        waited = False
        while True:
            with self._cond:
                if self._used + size <= self.limit:
                    self._used += size
                    self._peak = max(self._peak, self._used)
                    return True
                if cancelled():
                    return False
                if waited or on_wait is None:
                    self._cond.wait(0.25)
                    continue
            waited = True
            on_wait()  # outside the lock: it may emit events

    def grow(self, extra: int, held: int) -> None:
        """Count ``extra`` more bytes for a job that already holds ``held``, without waiting.

        Raises:
            DocumentTooLarge: ``held + extra`` exceeds the whole budget (nothing is counted).
        """
        if extra <= 0:
            return
        if held + extra > self.limit:
            raise DocumentTooLarge("the converted document is too large for this kiosk's memory")
        with self._cond:
            self._used += extra
            self._peak = max(self._peak, self._used)

    def release(self, size: int) -> None:
        """Give back a reservation."""
        with self._cond:
            self._used = max(0, self._used - size)
            self._cond.notify_all()
