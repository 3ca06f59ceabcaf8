"""Slow work off the Kivy main thread, results back on it.

``run_async`` runs a blocking core call (enroll, open, print, complete...) on a
small pool and delivers the result or the exception to the main thread with
``Clock.schedule_once``. ``on_main_thread`` wraps a core listener so it can be
called from any thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from kivy.clock import Clock

log = logging.getLogger(__name__)

T = TypeVar("T")

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kiosk-ui")


def run_async(
    fn: Callable[..., T],
    *args: Any,
    on_done: Callable[[T], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> Future[T]:
    """Run ``fn(*args)`` on a worker thread; call back on the main thread.

    Exceptions never escape to Kivy: without ``on_error`` they are logged.
    """

    def finished(future: Future[T]) -> None:
        exc = future.exception()
        if exc is not None:
            if on_error is not None:
                Clock.schedule_once(lambda _dt: on_error(exc))
            else:
                log.error("background task %s failed: %s", getattr(fn, "__name__", fn), exc)
            return
        if on_done is not None:
            result = future.result()
            Clock.schedule_once(lambda _dt: on_done(result))

    future = _pool.submit(fn, *args)
    future.add_done_callback(finished)
    return future


def on_main_thread(fn: Callable[..., None]) -> Callable[..., None]:
    """A callable that can be invoked from any thread and runs ``fn`` on the main one."""

    def call(*args: Any) -> None:
        Clock.schedule_once(lambda _dt: fn(*args))

    return call


def shutdown() -> None:
    """Stop accepting work (pending tasks are cancelled, running ones finish)."""
    _pool.shutdown(wait=False, cancel_futures=True)
