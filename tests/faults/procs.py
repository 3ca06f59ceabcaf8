"""Real processes the fault tests and bench/ campaigns break on purpose.

* :class:`RelayProcess`: one ``cloudtab-relay serve`` child on 127.0.0.1 with
  its own log file; ``kill()`` is SIGKILL, ``start()`` again reuses the port.
* :class:`PgCluster`: a throwaway PostgreSQL cluster (initdb + pg_ctl as the
  ``postgres`` user, see ENVIRONMENT.md) that can be restarted at will. Never
  the machine's shared server at 5432.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[2]
RELAY_MAIN = "import sys; from relay_grpc.cli import main; sys.exit(main())"
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.enable_retries", 0),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child: PYTHONPATH to the repo and its generated code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDTAB_")}
    paths = [str(ROOT), str(ROOT / "generated")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(extra or {})
    return env


class RelayProcess:
    """A relay child process; SQLite + local folder unless told PostgreSQL / GCS."""

    def __init__(
        self,
        workdir: Path,
        *,
        name: str = "relay",
        database_url: str | None = None,
        gcs_bucket: str | None = None,
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.workdir = Path(workdir)
        self.data_dir = data_dir or self.workdir / f"{name}-data"
        self.log_path = self.workdir / f"{name}.log"
        self.database_url = database_url
        self.gcs_bucket = gcs_bucket
        self.env = env or {}
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _backend_args(self) -> list[str]:
        args = ["--data-dir", str(self.data_dir)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        return args

    def start(self, timeout: float = 30.0) -> None:
        """Start (or restart on the same port) and wait until health says SERVING.

        Raises:
            RuntimeError: the process exited or never became healthy.
        """
        if self.process is not None and self.process.poll() is None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-c", RELAY_MAIN, "serve", "--listen", self.address, *self._backend_args()]
        if self.gcs_bucket:
            args += ["--gcs-bucket", self.gcs_bucket]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=child_env(self.env),
                cwd=self.workdir,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.healthy():
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self.name} not healthy within {timeout:.0f} s:\n{self.log_tail()}")

    def healthy(self) -> bool:
        """True when the health service answers SERVING."""
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        try:
            with grpc.insecure_channel(self.address) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
            return reply.status == health_pb2.HealthCheckResponse.SERVING
        except grpc.RpcError:
            return False

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.address, options=CHANNEL_OPTIONS)

    def cli(self, *args: str) -> str:
        """Run ``cloudtab-relay ARGS`` on this relay's database; stdout.

        Raises:
            subprocess.CalledProcessError: the command failed.
        """
        cmd = [sys.executable, "-c", RELAY_MAIN, *args, *self._backend_args()]
        done = subprocess.run(
            cmd, capture_output=True, text=True, env=child_env(self.env), timeout=60, cwd=self.workdir, check=False
        )
        if done.returncode:
            # Some CLIs want the options before the sub-command: try that too.
            cmd = [sys.executable, "-c", RELAY_MAIN, *self._backend_args(), *args]
            done = subprocess.run(
                cmd, capture_output=True, text=True, env=child_env(self.env), timeout=60, cwd=self.workdir, check=True
            )
        return done.stdout

    def add_shop(self, name: str) -> tuple[str, str]:
        """``shop add NAME --json`` -> (slug, enrollment code)."""
        data = json.loads(self.cli("shop", "add", name, "--json").strip().splitlines()[-1])
        return data["slug"], data["enrollment_code"]

    def kill(self) -> None:
        """SIGKILL, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


class PgCluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1:<free port>, restartable."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or tempfile.mkdtemp(prefix="cloudtab-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.log_path = self.root / "postgres.log"

    @staticmethod
    def available() -> str | None:
        """None when initdb and pg_ctl can be found, else what is missing."""
        if not PgCluster._bin("initdb"):
            return "PostgreSQL server binaries (initdb, pg_ctl)"
        if os.geteuid() == 0 and not shutil.which("runuser"):
            return "runuser (to run PostgreSQL as the postgres user)"
        return None

    @staticmethod
    def _bin(name: str) -> str | None:
        found = shutil.which(name)
        if found:
            return found
        for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
            if (base / name).exists():
                return str(base / name)
        return None

    def _run(self, *args: str, timeout: float = 60) -> None:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)

    def init(self) -> None:
        """initdb (trust auth) in a folder owned by postgres."""
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(self._bin("initdb")), "-D", str(self.data), "-U", "postgres", "--auth=trust")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off -c max_connections=300"
        self._run(
            str(self._bin("pg_ctl")), "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self._bin("pg_ctl")), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop (fast: connections are cut), wait, start again on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except (subprocess.SubprocessError, OSError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)


class TcpProxy:
    """A loopback TCP forwarder whose ``cut()`` drops every connection and refuses
    new ones until ``restore()``: a network loss for whoever dials the proxy."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._up = True
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.close()
                except OSError:
                    pass

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self._up = False
        with self._lock:
            sockets, self._open = self._open, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass

    def restore(self) -> None:
        self._up = True

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()
