"""`cloudtab up` as a child process of a test: start, read its announcements, stop, find leftovers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.fixtures.services import free_port

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"Customer upload page: (\S+)")


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def cmdline(pid: int) -> str:
    """The command line of `pid` ('' when gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class CloudtabUp:
    """`cloudtab up --headless` on free ports, its output collected in memory and a log file.

    It runs in its own process group, as in a terminal: `interrupt()` is Ctrl-C there.
    """

    def __init__(self, data_dir: Path, log_path: Path, *extra: str, bridge_listen: str | None = None) -> None:
        self.data_dir = data_dir
        self.relay_listen = f"127.0.0.1:{free_port()}"
        self.bridge_listen = bridge_listen or f"127.0.0.1:{free_port()}"
        self.log_path = log_path
        self.lines: list[str] = []
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDTAB_") and k != "DISPLAY"}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "generated")])
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "launcher.cli",
                "up",
                "--headless",
                "--data-dir",
                str(data_dir),
                "--relay-listen",
                self.relay_listen,
                "--bridge-listen",
                self.bridge_listen,
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=data_dir.parent,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with open(self.log_path, "ab") as log:
            for raw in iter(self.process.stdout.readline, b""):
                log.write(raw)
                log.flush()
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first output line matching `pattern`.

        Raises:
            AssertionError: not within `timeout`, or the launcher exited.
        """
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            lines = self.lines[:]
            for line in lines[seen:]:
                match = regex.search(line)
                if match:
                    return match
            seen = len(lines)
            if self.process.poll() is not None:
                self._reader.join(2)
                break
            time.sleep(0.05)
        raise AssertionError(f"no line /{pattern}/ from cloudtab up:\n{self.output()[-4000:]}")

    def customer_url(self, timeout: float = 45.0) -> str:
        return self.wait_for_line(URL_LINE.pattern, timeout).group(1)

    def child_pid(self, part: str) -> int | None:
        """Pid of the running `cloudtab-relay`, `gunicorn` (bridge) or `cloudtab-kiosk` child."""
        for pid in descendants(self.process.pid):
            try:
                ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == self.process.pid and part in cmdline(pid):
                return pid
        return None

    def interrupt(self, timeout: float = 30.0) -> int:
        """Ctrl-C at the terminal (SIGINT to the whole foreground process group) and wait;
        returns the exit status."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.terminate(timeout, signal.SIGINT)

    def terminate(self, timeout: float = 30.0, sig: int = signal.SIGTERM) -> int:
        """`sig` (default SIGTERM) and wait; returns the exit status."""
        if sig == signal.SIGTERM:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            self.kill()
        self._reader.join(5)
        return code

    def kill(self) -> None:
        """Last resort: SIGKILL the launcher and everything below it."""
        for pid in descendants(self.process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
