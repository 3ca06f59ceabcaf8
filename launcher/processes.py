"""Child processes with prefixed logs, started and stopped as one group.

Children run in their own sessions: a Ctrl-C at the terminal reaches only the
launcher, which then stops them in order with SIGTERM (no child sees SIGINT).
Their output goes, prefixed, to a log (a file in the data folder, or the terminal
with --verbose); the launcher's own lines go to the terminal and to that log.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from typing import TextIO

log = logging.getLogger(__name__)


class ProcessGroup:
    """Starts named child processes, copies their output with a `[name]` prefix,
    and stops them all (SIGTERM, then SIGKILL after a grace period)."""

    def __init__(self, out: TextIO, log_file: TextIO | None = None) -> None:
        self._out = out
        self._log = log_file
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._pumps: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._last: dict[str, str] = {}

    def _spawn(self, name: str, argv: Sequence[str], env: dict[str, str] | None) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
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
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.strip():
                self._last[name] = line
            self.log(name, line)
        stream.close()

    def last_line(self, name: str) -> str:
        """The last non-empty output line of child `name` ('' if none yet)."""
        return self._last.get(name, "")

    def wait_output(self, timeout: float = 2.0) -> None:
        """Let the output pumps of children that exited drain (their last lines)."""
        for pump in self._pumps:
            pump.join(timeout=timeout)

    def say(self, name: str, line: str) -> None:
        """Write one line with the `[name]` prefix to the terminal (and to the log file)."""
        with self._lock:
            self._write(self._out, name, line)
            if self._log is not None:
                self._write(self._log, name, line)

    def log(self, name: str, line: str) -> None:
        """Write one line of a child's output to the log (the terminal without a log file)."""
        with self._lock:
            self._write(self._log if self._log is not None else self._out, name, line)

    @staticmethod
    def _write(stream: TextIO, name: str, line: str) -> None:
        try:
            stream.write(f"[{name:<6}] {line}\n")
            stream.flush()
        except (OSError, ValueError):  # the terminal went away or the file is closed
            pass

    @property
    def started(self) -> bool:
        """True once any child was started."""
        return bool(self._pumps)

    def pid(self, name: str) -> int | None:
        """Process id of the long-running child `name`, if started."""
        child = self._children.get(name)
        return child.pid if child is not None else None

    def exited(self) -> list[tuple[str, int]]:
        """Long-running children that have exited, with their exit codes."""
        return [(n, c.returncode) for n, c in self._children.items() if c.poll() is not None]

    def stop(self, grace: float = 10.0) -> None:
        """Stop the children one by one, last started first (the kiosk lets go of the relay
        before the relay goes): SIGTERM, then SIGKILL after `grace` s."""
        for name, child in reversed(list(self._children.items())):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            try:
                code = child.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s; killing it", name, grace)
                child.kill()
                code = child.wait()
            self.log("up", f"{name} stopped ({code})")
        for pump in self._pumps:
            pump.join(timeout=2)
