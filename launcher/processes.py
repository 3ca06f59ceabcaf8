"""Child processes with prefixed logs, started and stopped as one group."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import TextIO

log = logging.getLogger(__name__)


class ProcessGroup:
    """Starts named child processes, copies their output with a `[name]` prefix,
    and stops them all (SIGTERM, then SIGKILL after a grace period)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start `argv` as child `name`; its stdout and stderr go to our output, prefixed."""
        child = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        self._children[name] = child
        threading.Thread(target=self._pump, args=(name, child), daemon=True).start()
        return child

    def _pump(self, name: str, child: subprocess.Popen[bytes]) -> None:
        assert child.stdout is not None  # set by Popen(stdout=PIPE)
        for raw in iter(child.stdout.readline, b""):
            self.say(name, raw.decode("utf-8", "replace").rstrip("\n"))

    def say(self, name: str, line: str) -> None:
        """Write one line with the `[name]` prefix."""
        with self._lock:
            self._out.write(f"[{name:<6}] {line}\n")
            self._out.flush()

    def exited(self) -> list[tuple[str, int]]:
        """Children that have exited, with their exit codes."""
        return [(n, c.returncode) for n, c in self._children.items() if c.poll() is not None]

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM every child (last started first), SIGKILL what is left after `grace` s."""
        for child in reversed(list(self._children.values())):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name, child in reversed(list(self._children.items())):
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s; killing it", name, grace)
                child.kill()
                child.wait()
