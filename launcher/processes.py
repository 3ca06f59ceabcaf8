"""Child processes with prefixed logs, started and stopped as one group."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import TextIO

log = logging.getLogger(__name__)


class ProcessGroup:
    """Starts named child processes, copies their output with a `[name]` prefix,
    and stops them all (SIGTERM, then SIGKILL after a grace period)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._pumps: list[threading.Thread] = []
        self._lock = threading.Lock()

    def _spawn(self, name: str, argv: Sequence[str], env: dict[str, str] | None) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        pump = threading.Thread(target=self._pump, args=(name, child), name=f"log-{name}", daemon=True)
        pump.start()
        self._pumps.append(pump)
        return child

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start `argv` as long-running child `name`; its output goes to ours, prefixed.

        Raises:
            OSError: the program cannot be started.
        """
        child = self._spawn(name, argv, env)
        self._children[name] = child
        return child

    def run(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 300) -> int:
        """Run a short-lived command to its end with prefixed output; returns its exit status.

        Raises:
            OSError: the program cannot be started.
            subprocess.TimeoutExpired: it ran longer than `timeout` (it is killed).
        """
        child = self._spawn(name, argv, env)
        try:
            return child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise

    def _pump(self, name: str, child: subprocess.Popen[bytes]) -> None:
        stream = child.stdout
        if stream is None:  # Popen(stdout=PIPE) always sets it
            return
        for raw in iter(stream.readline, b""):
            self.say(name, raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()

    def say(self, name: str, line: str) -> None:
        """Write one line with the `[name]` prefix."""
        with self._lock:
            self._out.write(f"[{name:<6}] {line}\n")
            self._out.flush()

    def exited(self) -> list[tuple[str, int]]:
        """Long-running children that have exited, with their exit codes."""
        return [(n, c.returncode) for n, c in self._children.items() if c.poll() is not None]

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM every child (last started first), SIGKILL what is left after `grace` s."""
        children = list(self._children.items())
        for _name, child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name, child in reversed(children):
            try:
                code = child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s; killing it", name, grace)
                child.kill()
                code = child.wait()
            self.say("up", f"{name} stopped ({code})")
        for pump in self._pumps:
            pump.join(timeout=2)
