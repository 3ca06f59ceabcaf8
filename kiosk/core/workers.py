"""Document work in separate processes with memory, time and size limits.

Decoding, rendering, rewriting for print and format conversion run a
customer's bytes through large C libraries (pdfium, libjpeg, LibreOffice). A
:class:`WorkerPool` runs each such task in a worker process that has an
address-space limit (``RLIMIT_AS``); the caller waits at most a wall-time
limit. A limit hit raises :class:`WorkLimitExceeded` (a ``DocumentTooLarge``
with a plain sentence), the worker is killed and replaced, and the other
workers go on: there is no lock shared across jobs.

Tasks are plain functions named ``"module:function"`` inside ``kiosk.core``
(for example ``kiosk.core.documents:prepare``); they run in the worker and
return picklable values. A task may take a cached document: the caller passes
``doc=(key, data)``; the worker keeps the bytes under ``key`` (least recently
used first out) so repeated renders of one file do not resend it, and
:meth:`WorkerPool.forget` drops them when the job is wiped. Errors raised
in a task as :class:`kiosk.core.errors.KioskError` subclasses come back as the
same class and sentence; anything else becomes a :class:`DocumentError`.

Example (a converter)::

    pool.run("kiosk.core.convert:to_pdf", data, "docx", timeout=pool.limits.document_seconds)
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import multiprocessing
import os
import queue
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from kiosk.core import errors
from kiosk.core.errors import DocumentError, DocumentTooLarge

log = logging.getLogger(__name__)

TASK_PREFIX = "kiosk.core."
CACHE_SLOTS = 4


@dataclass(frozen=True)
class Limits:
    """Limits of one worker and of each task.

    ``memory_bytes``: address space of a worker process (RLIMIT_AS).
    ``page_seconds`` / ``document_seconds``: wall time of one page render / of
    preparing, printing or converting one document. ``max_width``,
    ``max_height``, ``max_pixels``: the largest bitmap a render may make.
    """

    memory_bytes: int = 1536 << 20
    page_seconds: float = 20.0
    document_seconds: float = 60.0
    max_width: int = 10_000
    max_height: int = 10_000
    max_pixels: int = 16_000_000


class WorkLimitExceeded(DocumentTooLarge):
    """A task hit a limit; ``limit`` is "time" or "memory"."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


TIME_MESSAGE = "this document takes too long to process; the kiosk stopped it"
MEMORY_MESSAGE = "this document needs more memory than the kiosk allows; the kiosk stopped it"


@dataclass
class CachedDocument:
    """What a task sees of a cached document: its bytes and a per-document scratch dict."""

    data: bytearray
    state: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        for value in self.state.values():
            close = getattr(value, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing must not fail the worker
                    log.debug("closing a cached document failed")
        self.state.clear()
        self.data[:] = bytes(len(self.data))


# -- worker side ---------------------------------------------------------------------------
_limits = Limits()


def current_limits() -> Limits:
    """The limits of the worker a task runs in (defaults outside a worker)."""
    return _limits


def _resolve(name: str) -> Callable[..., Any]:
    if not name.startswith(TASK_PREFIX) or ":" not in name:
        raise DocumentError("unknown document task")
    module, func = name.split(":", 1)
    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]


def _worker_main(conn: Connection, limits: Limits) -> None:  # pragma: no cover - runs in the child
    global _limits
    _limits = limits
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    except (ImportError, ValueError, OSError):
        pass  # not on this OS: the wall-time limit still holds
    cache: OrderedDict[str, CachedDocument] = OrderedDict()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        name, args, key, data, forget = message
        for gone in forget:
            doc = cache.pop(gone, None)
            if doc is not None:
                doc.close()
        if name is None:
            conn.send(("ok", None))
            continue
        try:
            kwargs: dict[str, Any] = {}
            if key is not None:
                doc = cache.get(key)
                if doc is None:
                    if data is None:
                        conn.send(("need", None))
                        continue
                    doc = cache[key] = CachedDocument(data)
                    while len(cache) > CACHE_SLOTS:
                        cache.popitem(last=False)[1].close()
                cache.move_to_end(key)
                kwargs["doc"] = doc
            result = _resolve(name)(*args, **kwargs)
            conn.send(("ok", result))
        except MemoryError:
            for doc in cache.values():
                doc.close()
            cache.clear()
            conn.send(("limit", "memory"))
            return  # a fresh worker replaces this one
        except errors.KioskError as exc:
            conn.send(("error", (type(exc).__name__, str(exc))))
        except Exception as exc:  # noqa: BLE001 - a library failed on hostile bytes
            log.warning("document task %s failed: %s", name, type(exc).__name__)
            conn.send(("error", ("DocumentError", "the document cannot be processed")))


# -- parent side ---------------------------------------------------------------------------
class _Duplex:
    """Two one-way pipes as one connection (what the worker loop talks to)."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._in = Connection(read_fd, writable=False)
        self._out = Connection(write_fd, readable=False)

    def send(self, obj: Any) -> None:
        self._out.send(obj)

    def recv(self) -> Any:
        return self._in.recv()

    def poll(self, timeout: float) -> bool:
        return self._in.poll(timeout)

    def close(self) -> None:
        self._in.close()
        self._out.close()


def _child_main(argv: list[str]) -> None:  # pragma: no cover - runs in the child
    """Entry of a worker started as ``python -c`` (argv: read fd, write fd, limits as JSON)."""
    limits = Limits(**json.loads(argv[2]))
    _worker_main(_Duplex(int(argv[0]), int(argv[1])), limits)  # type: ignore[arg-type]


class _Worker:
    """One worker process. A fresh interpreter (not multiprocessing's spawn, which would
    import the kiosk app's main module, Kivy and all, into every worker)."""

    def __init__(self, limits: Limits) -> None:
        self.keys: set[str] = set()
        self.forget: set[str] = set()
        self.process: Any
        if getattr(sys, "frozen", False):  # a bundled kiosk has no python -c
            ctx = multiprocessing.get_context("spawn")
            self.conn, child = ctx.Pipe()
            self.process = ctx.Process(
                target=_worker_main, args=(child, limits), daemon=True, name="kiosk-document-worker"
            )
            self.process.start()
            child.close()
            return
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        code = "import sys; from kiosk.core.workers import _child_main; _child_main(sys.argv[1:])"
        args = [sys.executable, "-c", code, str(to_child_r), str(from_child_w), json.dumps(dataclasses.asdict(limits))]
        try:
            self.process = subprocess.Popen(
                args,
                pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.conn = _Duplex(from_child_r, to_child_w)  # type: ignore[assignment]

    def kill(self) -> None:
        try:
            self.process.kill()
            if isinstance(self.process, subprocess.Popen):
                self.process.wait(5)
            else:
                self.process.join(5)
        except (OSError, ValueError, AttributeError, subprocess.TimeoutExpired):
            pass
        self.conn.close()

    @property
    def alive(self) -> bool:
        if isinstance(self.process, subprocess.Popen):
            return self.process.poll() is None
        return bool(self.process.is_alive())


class WorkerPool:
    """``size`` worker processes; each task gets one to itself for its duration."""

    def __init__(self, size: int | None = None, limits: Limits | None = None) -> None:
        self.size = size or int(os.environ.get("CLOUDTAB_KIOSK_DOCUMENT_WORKERS", "0") or 0) or 3
        self.limits = limits or Limits()
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(self.size):
            self._idle.put(None)  # started on first use
        self._lock = threading.Lock()
        self._all: list[_Worker] = []
        self._closed = False
        self.replaced = 0

    def run(self, task: str, *args: Any, timeout: float, doc: tuple[str, bytes | bytearray] | None = None) -> Any:
        """Run ``task(*args)`` in a worker and return its result. [blocking]

        Raises:
            WorkLimitExceeded: over ``timeout`` seconds or the worker's memory.
            KioskError subclasses raised by the task; DocumentError otherwise.
        """
        if self._closed:
            raise DocumentError("the kiosk is shutting down")
        worker = self._idle.get()
        try:
            if worker is None or not worker.alive:
                worker = self._start()
            result = self._call(worker, task, args, timeout, doc)
        except BaseException:
            if worker is not None and not worker.alive:
                self._drop(worker)
                worker = None
            self._idle.put(worker)
            raise
        self._idle.put(worker)
        return result

    def warm(self, count: int = 1) -> None:
        """Start up to ``count`` workers now, so the first job does not wait for one. [blocking]"""
        for _ in range(count):
            try:
                slot = self._idle.get_nowait()
            except queue.Empty:
                return
            try:
                if slot is None and not self._closed:
                    slot = self._start()
            except DocumentError:
                pass
            finally:
                self._idle.put(slot)

    def forget(self, keys: list[str]) -> None:
        """Drop cached documents from every worker (idle ones now, busy ones before their next task)."""
        with self._lock:
            workers = list(self._all)
        for each in workers:
            each.forget.update(k for k in keys if k in each.keys)
        idle: list[_Worker | None] = []
        try:
            while True:
                idle.append(self._idle.get_nowait())
        except queue.Empty:
            pass
        try:
            for slot in idle:
                if slot is not None and slot.forget and slot.alive:
                    try:
                        self._call(slot, None, (), 5.0, None)
                    except errors.KioskError:
                        self._drop(slot)
        finally:
            for slot in idle:
                self._idle.put(slot if slot is None or slot.alive else None)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop every worker (tasks running now fail)."""
        self._closed = True
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.kill()

    def _start(self) -> _Worker:
        worker = _Worker(self.limits)
        with self._lock:
            closed = self._closed
            if not closed:
                self._all.append(worker)
        if closed:  # closed while it started: do not leave it running
            worker.kill()
            raise DocumentError("the kiosk is shutting down")
        return worker

    def _drop(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker not in self._all:
                return
            self._all.remove(worker)
            self.replaced += 1

    def _call(
        self,
        worker: _Worker,
        task: str | None,
        args: tuple[Any, ...],
        timeout: float,
        doc: tuple[str, bytes | bytearray] | None,
    ) -> Any:
        key = doc[0] if doc else None
        forget, worker.forget = list(worker.forget), set()
        worker.keys.difference_update(forget)
        deadline = time.monotonic() + timeout
        payload: bytes | bytearray | None = None
        while True:
            try:
                worker.conn.send((task, args, key, payload, forget))
                forget = []
                status, value = self._receive(worker, deadline)
            except (OSError, EOFError, BrokenPipeError):
                self._drop(worker)
                raise WorkLimitExceeded(MEMORY_MESSAGE, "memory") from None
            if status == "need" and doc is not None and payload is None:
                payload = doc[1]
                continue
            break
        if key is not None:
            worker.keys.add(key)
        if status == "ok":
            return value
        if status == "limit":
            self._drop(worker)
            raise WorkLimitExceeded(MEMORY_MESSAGE, "memory")
        name, message = value
        cls = getattr(errors, name, None)
        if not (isinstance(cls, type) and issubclass(cls, errors.KioskError)):
            cls = DocumentError
        raise cls(message)

    def _receive(self, worker: _Worker, deadline: float) -> tuple[str, Any]:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._drop(worker)
                raise WorkLimitExceeded(TIME_MESSAGE, "time")
            if worker.conn.poll(min(left, 0.5)):
                return worker.conn.recv()  # type: ignore[no-any-return]
            if not worker.alive:
                raise EOFError


_default: WorkerPool | None = None
_default_lock = threading.Lock()


def default_pool() -> WorkerPool:
    """A process-wide pool with default limits (started on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = WorkerPool()
        return _default
