"""The bridge as deployed: ``cloudtab-bridge serve`` and gunicorn, against a real relay.

Under gunicorn the test also walks a job through the JSON API (create, chunked upload,
submit, one server-sent event), since gunicorn's request streams differ from werkzeug's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import envelope
from tests.fixtures.services import free_port, service_missing, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


def _env(relay_address: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDTAB_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "generated")])
    env["CLOUDTAB_BRIDGE_RELAY_ADDRESS"] = relay_address
    return env


@contextmanager
def _process(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    with open(log, "wb") as out:
        process = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        if not wait_for_port(port, timeout=30):
            raise RuntimeError(f"{cmd[0]} did not listen:\n{log.read_text(errors='replace')}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _call(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_cli_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "web_bridge.cli", "serve", "--help"],
        env=_env("127.0.0.1:1"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0
    assert "--relay" in done.stdout and "--listen" in done.stdout and "gunicorn" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "web_bridge.cli", "serve", "--listen", "nope"],
        env=_env("127.0.0.1:1"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert bad.returncode == 2 and "HOST:PORT" in bad.stderr


def test_cli_serve(relay: Any, tmp_path: Path) -> None:
    slug, _ = relay.add_shop("Serve Test")
    port = free_port()
    cmd = [sys.executable, "-m", "web_bridge.cli", "serve", "--relay", relay.address, "--listen", f"127.0.0.1:{port}"]
    with _process(cmd, _env("127.0.0.1:1"), port, tmp_path / "serve.log") as url:
        status, _, body = _call(f"{url}/api/shops/{slug}")
        # A shop without an enrolled kiosk is not listed (NOT_FOUND from the relay).
        assert status == 404
        assert json.loads(body)["message"] == "This shop was not found."
        status, headers, body = _call(f"{url}/")
        assert status == 200 and "Content-Security-Policy" in headers


def test_gunicorn_serves_the_page_and_a_job(relay: Any, kiosk: Any, tmp_path: Path) -> None:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    if gunicorn is None:
        service_missing("gunicorn")
    port = free_port()
    cmd = [
        gunicorn,
        *("-k", "web_bridge.server.BridgeWorker", "-w", "1", "--keep-alive", "5", "--no-control-socket"),
        *("-b", f"127.0.0.1:{port}", "web_bridge.asgi:create_asgi_app()"),
    ]
    with _process(cmd, _env(relay.address), port, tmp_path / "gunicorn.log") as url:
        status, headers, body = _call(f"{url}/s/{kiosk.slug}")
        assert status == 200
        assert "Corner Copy" in body.decode()
        assert headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert headers["Referrer-Policy"] == "no-referrer"

        data = b"%PDF-1.4 gunicorn " + os.urandom(300_000)
        content_key = envelope.new_content_key()
        sealed = envelope.seal_bytes(envelope.file_key(content_key, 0), data)
        shop_fp = hashlib.sha256(kiosk.public_key).hexdigest()
        status, _, body = _call(
            f"{url}/api/jobs",
            "POST",
            json.dumps({"shop": kiosk.slug, "file_sizes": [len(sealed)], "key_fingerprint": shop_fp}).encode(),
            {"Content-Type": "application/json"},
        )
        assert status == 201, body
        created = json.loads(body)
        job_id, token = created["job"]["job_id"], created["customer_token"]
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"}
        half = len(sealed) // 2
        for offset, part in ((0, sealed[:half]), (half, sealed[half:])):
            status, _, body = _call(f"{url}/api/jobs/{job_id}/files/0?offset={offset}", "PUT", part, auth)
            assert status == 200, body
        assert json.loads(body) == {"committed_offset": len(sealed), "complete": True}

        manifest = envelope.Manifest(
            content_key=content_key,
            files=(
                envelope.FileEntry(
                    name="g.pdf", type="application/pdf", size=len(data), sha256=hashlib.sha256(data).hexdigest()
                ),
            ),
        )
        sealed_manifest = envelope.seal_manifest(manifest, envelope.public_key_from_bytes(kiosk.public_key), job_id)
        status, _, body = _call(f"{url}/api/jobs/{job_id}/submit", "POST", sealed_manifest, auth)
        assert status == 200 and json.loads(body)["job"]["state"] == "queued"
        assert kiosk.open_job(job_id).files == [data]

        request = urllib.request.Request(
            f"{url}/api/jobs/{job_id}/events", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=20) as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            lines = []
            while not any(line.startswith("data:") for line in lines):
                lines.append(stream.readline().decode().strip())
        event = json.loads(next(line for line in lines if line.startswith("data:"))[5:])
        assert event["job"]["state"] == "queued"
