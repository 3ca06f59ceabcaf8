"""The kiosk's memory budget for open jobs: a job reserves its bytes before downloading.

A job reserves what it holds at its peak (ciphertext plus plaintext) and keeps
the reservation until it is wiped. Jobs that do not fit wait; a job larger
than the whole budget is refused at once.
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

    def release(self, size: int) -> None:
        """Give back a reservation."""
        with self._cond:
            self._used = max(0, self._used - size)
            self._cond.notify_all()
