"""The web bridge as a real process (`cloudtab-bridge serve`) on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.fixtures.services import free_port

ROOT = Path(__file__).resolve().parents[2]


class BridgeProcess:
    """`python -m web_bridge.cli serve --relay ADDRESS --listen 127.0.0.1:PORT`, logging to a file."""

    def __init__(self, relay_address: str, log_path: Path, timeout: float = 30.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDTAB_")}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "generated")])
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "web_bridge.cli",
                    "serve",
                    "--relay",
                    relay_address,
                    "--listen",
                    f"127.0.0.1:{self.port}",
                    "--job-limit",
                    "1000 per minute",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bridge exited:\n{log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the bridge did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
